package proxy

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Verifier is a stored SCRAM-SHA-256 credential (RFC 5802/7677): what the server keeps instead
// of the password.
type Verifier struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// NewVerifier derives a verifier from a password with a random salt.
func NewVerifier(password string) (Verifier, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return Verifier{}, err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, 32)
	if err != nil {
		return Verifier{}, err
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return Verifier{Salt: salt, Iterations: scramIterations, StoredKey: stored[:], ServerKey: hmacSHA256(salted, "Server Key")}, nil
}

// scramIterations is the PBKDF2 iteration count of NewVerifier's verifiers, and of the ones
// made up for unknown users.
const scramIterations = 4096

// decoy is the verifier an unknown user is challenged with: salt and keys are HMACs of the name
// under the server's secret, so an unknown user sees the same salt at every attempt (as a known
// user does), and checking its proof costs what checking a known user's does (no PBKDF2 at
// login for either: verifiers are derived once, at start). No proof matches it.
func (s *Server) decoy(user string) Verifier {
	mac := func(label string) []byte {
		h := hmac.New(sha256.New, s.secret)
		h.Write([]byte(label))
		h.Write([]byte{0})
		h.Write([]byte(user))
		return h.Sum(nil)
	}
	return Verifier{Salt: mac("salt")[:16], Iterations: scramIterations, StoredKey: mac("stored key"), ServerKey: mac("server key")}
}

func randomBytes() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

var (
	errAuthFailed = errors.New("authentication failed")
	errProtocol   = errors.New("protocol violation")
)

// cleartext asks the client for its password in clear (Config.PassThroughAuth) and returns it.
func cleartext(be *pgproto3.Backend) (string, error) {
	be.Send(&pgproto3.AuthenticationCleartextPassword{})
	if err := be.Flush(); err != nil {
		return "", err
	}
	if err := be.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
		return "", err
	}
	msg, err := be.Receive()
	if err != nil {
		return "", err
	}
	pm, ok := msg.(*pgproto3.PasswordMessage)
	if !ok {
		return "", fmt.Errorf("%w: expected a password message, got %T", errProtocol, msg)
	}
	return pm.Password, nil
}

// scram runs the SCRAM-SHA-256 exchange on be for user; errAuthFailed on a wrong password.
func scram(be *pgproto3.Backend, v Verifier) error {
	be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	if err := be.Flush(); err != nil {
		return err
	}
	if err := be.SetAuthType(pgproto3.AuthTypeSASL); err != nil {
		return err
	}
	msg, err := be.Receive()
	if err != nil {
		return err
	}
	initial, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || initial.AuthMechanism != "SCRAM-SHA-256" {
		return fmt.Errorf("%w: expected a SCRAM-SHA-256 initial response", errProtocol)
	}
	// client-first-message: gs2-header "n,," then "n=user,r=nonce"
	cfm := string(initial.Data)
	if !strings.HasPrefix(cfm, "n,,") {
		return fmt.Errorf("%w: channel binding is not supported", errProtocol)
	}
	bare := cfm[3:]
	clientNonce := scramAttr(bare, "r")
	if clientNonce == "" {
		return fmt.Errorf("%w: SCRAM client nonce missing", errProtocol)
	}
	nonceBytes := make([]byte, 18)
	if _, err := rand.Read(nonceBytes); err != nil {
		return err
	}
	nonce := clientNonce + base64.StdEncoding.EncodeToString(nonceBytes)
	sfm := "r=" + nonce + ",s=" + base64.StdEncoding.EncodeToString(v.Salt) + ",i=" + strconv.Itoa(v.Iterations)
	be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(sfm)})
	if err := be.Flush(); err != nil {
		return err
	}
	if err := be.SetAuthType(pgproto3.AuthTypeSASLContinue); err != nil {
		return err
	}
	msg, err = be.Receive()
	if err != nil {
		return err
	}
	resp, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return fmt.Errorf("%w: expected a SCRAM response", errProtocol)
	}
	cfinal := string(resp.Data)
	i := strings.LastIndex(cfinal, ",p=")
	if i < 0 || scramAttr(cfinal, "r") != nonce {
		return errAuthFailed
	}
	proof, err := base64.StdEncoding.DecodeString(cfinal[i+3:])
	if err != nil || len(proof) != sha256.Size {
		return errAuthFailed
	}
	authMessage := bare + "," + sfm + "," + cfinal[:i]
	sig := hmacSHA256(v.StoredKey, authMessage)
	clientKey := make([]byte, len(proof))
	for k := range proof {
		clientKey[k] = proof[k] ^ sig[k]
	}
	stored := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(stored[:], v.StoredKey) != 1 {
		return errAuthFailed
	}
	be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(hmacSHA256(v.ServerKey, authMessage)))})
	return nil
}

// scramAttr finds attribute name in a comma-separated SCRAM message.
func scramAttr(msg, name string) string {
	for _, part := range strings.Split(msg, ",") {
		if v, ok := strings.CutPrefix(part, name+"="); ok {
			return v
		}
	}
	return ""
}
