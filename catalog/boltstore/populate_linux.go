package boltstore

import "syscall"

// populate maps the catalog file with its pages read in (see Open).
const populate = syscall.MAP_POPULATE
