package upstream

import "sync"

// retirer closes a replaced or dropped wasm function once every statement that may have
// resolved it has ended (sqlfuncs.Registry.SetRetire): statements are counted by the epoch they
// began in, and a retirement closes when no statement of its epoch or before runs.
type retirer struct {
	mu      sync.Mutex
	epoch   uint64
	running map[uint64]int
	pending []retirement
}

type retirement struct {
	epoch uint64
	close func()
}

// begin counts a statement that calls wasm functions; end(its epoch) when it is over.
func (r *retirer) begin() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running == nil {
		r.running = map[uint64]int{}
	}
	r.running[r.epoch]++
	return r.epoch
}

func (r *retirer) end(epoch uint64) {
	r.mu.Lock()
	if r.running[epoch]--; r.running[epoch] == 0 {
		delete(r.running, epoch)
	}
	due := r.due()
	r.mu.Unlock()
	for _, c := range due {
		c()
	}
}

// retire is the Registry's retire hook.
func (r *retirer) retire(close func()) {
	r.mu.Lock()
	r.pending = append(r.pending, retirement{r.epoch, close})
	r.epoch++
	due := r.due()
	r.mu.Unlock()
	for _, c := range due {
		c()
	}
}

// due takes the retirements no running statement can still use. Called with mu held.
func (r *retirer) due() []func() {
	oldest, any := uint64(0), false
	for e := range r.running {
		if !any || e < oldest {
			oldest, any = e, true
		}
	}
	var out []func()
	keep := r.pending[:0]
	for _, p := range r.pending {
		if !any || p.epoch < oldest {
			out = append(out, p.close)
		} else {
			keep = append(keep, p)
		}
	}
	r.pending = keep
	return out
}
