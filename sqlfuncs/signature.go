package sqlfuncs

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wasql/wasql/udf"
)

// applySignature brings the statement and the module's wasql_signatures section together: a
// CREATE FUNCTION without an argument list takes its signature from the section's line for its
// export; one with an argument list must agree with that line, if the section has one. Clauses
// the statement does not spell out (null behavior, volatility, parallel safety) take the
// section's values in both forms. The errors are 42P13 and name both signatures.
func (s *CreateStmt) applySignature() error {
	sigs, err := udf.Signatures(s.Module)
	if err != nil {
		if !s.FromModule && errors.Is(err, udf.ErrMalformedModule) {
			return nil // loading reports a malformed module its own way
		}
		return withFunction(err, s.Name)
	}
	i := slices.IndexFunc(sigs, func(g udf.Signature) bool { return g.Name == s.Export })
	if i < 0 {
		if !s.FromModule {
			return nil // the section does not speak for this export
		}
		if len(sigs) == 0 {
			return defErr("CREATE FUNCTION %s without an argument list takes its signature from the module, but the module has no %s section: "+
				"build it with a wasql SDK, or declare it: CREATE FUNCTION %s(argument types) RETURNS type ...", s.Name, udf.SignatureSection, s.Name)
		}
		var names []string
		for _, g := range sigs {
			names = append(names, g.Name)
		}
		return defErr("the module's %s section declares no function %s (it declares %s): name one with AS <module>, 'export'",
			udf.SignatureSection, s.Export, strings.Join(names, ", "))
	}
	sig := sigs[i]
	if s.FromModule {
		s.Args, s.ArgNames, s.Result = sig.Args, sig.ArgNames, sig.Result
	} else if !slices.Equal(s.Args, sig.Args) || s.Result != sig.Result {
		return defErr("CREATE FUNCTION %s(%s) RETURNS %s disagrees with the module's %s section, which declares %s",
			s.Name, typeList(s.Args), s.Result, udf.SignatureSection, sig)
	}
	if !s.given.strict {
		s.Strict = sig.OnNull == udf.Strict
	} else if !s.Strict && sig.OnNull == udf.Strict {
		return defErr("CREATE FUNCTION %s is CALLED ON NULL INPUT but the module's %s section declares %s: its code was not built to see NULLs",
			s.Name, udf.SignatureSection, sig)
	}
	if !s.given.volatility {
		s.Volatility = sig.Volatility
	}
	if !s.given.parallel {
		s.Parallel = sig.Parallel
	}
	return nil
}

// withFunction names the function in a udf error that does not name one yet.
func withFunction(err error, name string) error {
	var e *udf.Error
	if errors.As(err, &e) && e.Function == "" {
		c := *e
		c.Function = name
		return &c
	}
	return fmt.Errorf("%s: %w", name, err)
}
