package catalog

import (
	"crypto/sha256"
	"encoding/hex"
)

// ModuleHash is the name a store gives module bytes: their SHA-256, in lower-case hex.
func ModuleHash(module []byte) string {
	sum := sha256.Sum256(module)
	return hex.EncodeToString(sum[:])
}

// IsModuleHash reports whether s has the form of a ModuleHash.
func IsModuleHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// VerifyModule checks that module bytes read back from a store hash to the name they were
// stored under; ErrCorrupt if not.
func VerifyModule(hash string, module []byte) error {
	if got := ModuleHash(module); got != hash {
		return Errorf(ErrCorrupt, "module %s is corrupted: its %d bytes hash to %s", hash, len(module), got)
	}
	return nil
}
