-- XXH64('') = 0xEF46DB3751D8E999, XXH64('abc') = 0x44BC2CF5AD770999, as signed bigints
SELECT xxhash64(''), xxhash64('abc');
--> -1205034819632174695|4952883123889572249
-- 32 bytes and more take the four-lane path (python-xxhash README: fbcea83c8a378bf1)
SELECT xxhash64('Nobody inspects the spammish repetition');
--> -302119147016844303
SELECT xxhash64(NULL);
--> NULL
-- XXH64('a') = 0xD24EC4F1A98C6E5B; over a table's rows
SELECT s, xxhash64(s) FROM (VALUES ('a'), ('abc')) AS t(s) ORDER BY s;
--> a|-3292477735350538661
--> abc|4952883123889572249
