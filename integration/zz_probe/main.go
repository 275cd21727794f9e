package main

import (
	"fmt"
	"net"
	"os"

	"github.com/jackc/pgx/v5/pgproto3"
)

func main() {
	nc, err := net.Dial("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		panic(err)
	}
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "root", "database": "wasql"}})
	fe.Flush()
	drain := func() {
		for {
			m, err := fe.Receive()
			if err != nil {
				panic(err)
			}
			fmt.Printf("  %T %+v\n", m, m)
			if _, ok := m.(*pgproto3.ReadyForQuery); ok {
				return
			}
		}
	}
	drain()
	q := os.Args[2]
	withDescribe := len(os.Args) > 3
	fmt.Println("Parse/Bind/[Describe]/Execute/Sync", q, withDescribe)
	fe.Send(&pgproto3.Parse{Query: q, ParameterOIDs: []uint32{20, 20}})
	fe.Send(&pgproto3.Bind{Parameters: [][]byte{[]byte("40"), []byte("2")}})
	if withDescribe {
		fe.Send(&pgproto3.Describe{ObjectType: 'P'})
	}
	fe.Send(&pgproto3.Execute{})
	fe.Send(&pgproto3.Sync{})
	fe.Flush()
	drain()
}
