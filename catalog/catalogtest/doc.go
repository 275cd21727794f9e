// Package catalogtest is the conformance suite every catalog.Store backend runs:
//
//	func TestConformance(t *testing.T) {
//		catalogtest.Run(t, func(t *testing.T) catalog.Store { return openEmpty(t) })
//	}
//
// Each subtest gets a fresh store and ends with Check, the store's invariants seen through the
// catalog.Store interface.
package catalogtest
