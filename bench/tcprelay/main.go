// Command tcprelay is the floor of any proxy for bench/proxy.sh: it accepts TCP connections and
// copies bytes both ways to one address, with nothing in between (two goroutines and io.Copy per
// connection, TCP_NODELAY as Go sets it). What wasql's proxy costs beyond it is its own.
//
//	go run ./bench/tcprelay -listen 127.0.0.1:6000 -to 127.0.0.1:5432
package main

import (
	"flag"
	"io"
	"log"
	"net"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	to := flag.String("to", "", "address to relay to")
	flag.Parse()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("relaying %s to %s", l.Addr(), *to)
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("tcp", *to)
			if err != nil {
				log.Print(err)
				return
			}
			defer u.Close()
			go func() { io.Copy(u, c); u.(*net.TCPConn).CloseWrite() }()
			io.Copy(c, u)
		}()
	}
}
