//go:build !linux

package boltstore

const populate = 0
