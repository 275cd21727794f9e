-- semver_compare(a text, b text) RETURNS integer
SELECT semver_compare('1.0.0', '2.0.0'), semver_compare('2.0.0', '2.0.0'), semver_compare('2.1.0', '2.0.9');
--> -1|0|1
-- numeric, not lexical
SELECT semver_compare('1.10.0', '1.9.0'), semver_compare('0.0.9', '0.0.10');
--> 1|-1
-- the precedence example of semver 2.0.0 §11, each pair in order
SELECT a, b, semver_compare(a, b), semver_compare(b, a) FROM (VALUES
  (1, '1.0.0-alpha', '1.0.0-alpha.1'),
  (2, '1.0.0-alpha.1', '1.0.0-alpha.beta'),
  (3, '1.0.0-alpha.beta', '1.0.0-beta'),
  (4, '1.0.0-beta', '1.0.0-beta.2'),
  (5, '1.0.0-beta.2', '1.0.0-beta.11'),
  (6, '1.0.0-beta.11', '1.0.0-rc.1'),
  (7, '1.0.0-rc.1', '1.0.0')) v(n, a, b) ORDER BY n;
--> 1.0.0-alpha|1.0.0-alpha.1|-1|1
--> 1.0.0-alpha.1|1.0.0-alpha.beta|-1|1
--> 1.0.0-alpha.beta|1.0.0-beta|-1|1
--> 1.0.0-beta|1.0.0-beta.2|-1|1
--> 1.0.0-beta.2|1.0.0-beta.11|-1|1
--> 1.0.0-beta.11|1.0.0-rc.1|-1|1
--> 1.0.0-rc.1|1.0.0|-1|1
-- build metadata is ignored; pre-release identifiers may hold dashes
SELECT semver_compare('1.0.0+build.1', '1.0.0+build.2'), semver_compare('1.0.0-x-y.1+001', '1.0.0-x-y.1'), semver_compare('1.0.0-a-b', '1.0.0-a');
--> 0|0|1
-- numbers past 64 bits
SELECT semver_compare('18446744073709551616.0.0', '18446744073709551615.99.99');
--> 1
-- STRICT: NULL in, NULL out
SELECT semver_compare(NULL, '1.0.0'), semver_compare('1.0.0', NULL);
--> NULL|NULL
-- an invalid version is a row error naming it
SELECT semver_compare('1.2', '1.0.0');
--> ERROR 38000: invalid semantic version "1.2"
SELECT semver_compare('1.0.0', '01.0.0');
--> ERROR 38000: invalid semantic version "01.0.0": leading zero
SELECT semver_compare('1.0.0-', '1.0.0');
--> ERROR 38000: invalid semantic version "1.0.0-": empty pre-release identifier
SELECT semver_compare('1.0.0-alpha.01', '1.0.0');
--> ERROR 38000: invalid semantic version "1.0.0-alpha.01"
SELECT semver_compare('v1.0.0', '1.0.0');
--> ERROR 38000: invalid semantic version "v1.0.0"
