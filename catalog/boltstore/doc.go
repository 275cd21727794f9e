// Package boltstore is the embedded catalog backend: one bbolt file, one transaction per write.
//
// Layout of the file (format version 1):
//
//	meta/version             "1"
//	functions/<key>          JSON record of a catalog.Function
//	modules/<hex sha-256>    module bytes, stored once and shared by every function using them
//
// A function key is schema NUL name NUL argtype NUL argtype..., so bbolt's byte order is
// catalog.Key.Compare's order and no two keys collide (catalog.Function.Validate rejects NUL).
// Each Create and Drop is one bbolt Update transaction: the function record, its module and the
// removal of a module no function uses any more commit together or not at all. bbolt writes
// copy-on-write pages and fsyncs before switching its meta page, so a commit survives the
// process being killed (TestCrash kills a writer with SIGKILL a hundred times) and is designed
// to survive power loss (not tested here).
//
// # Concurrency and notifications
//
// Reads are bbolt read transactions and run in parallel with each other and with a write.
// Writes are serialized; each one notifies subscribers synchronously, after it commits and
// before Create or Drop returns, so a subscriber has seen a change by the time its writer
// returns. A subscriber must therefore not write to the store.
//
// # Opening
//
// A file is opened by one Store at a time: bbolt holds an exclusive lock on it, and Open waits
// LockTimeout for it before failing with ErrLocked. Open refuses, with ErrFormat, a file that is
// not bbolt, a bbolt file that is not a catalog, and a catalog in another format version.
//
// # Corruption
//
// Module bytes are verified against their SHA-256 on every read, and function records are
// validated as they are decoded; a mismatch is catalog.ErrCorrupt, never a silently skipped
// record. Check verifies a whole file, including that no module is orphaned.
package boltstore
