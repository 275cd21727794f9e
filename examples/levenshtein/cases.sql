SELECT levenshtein('kitten', 'sitting');
--> 3
SELECT levenshtein('', 'abc'), levenshtein('abc', ''), levenshtein('same', 'same');
--> 3|3|0
-- characters, not bytes
SELECT levenshtein('café', 'cafe'), levenshtein('日本', '日本語');
--> 1|1
SELECT levenshtein(NULL, 'x');
--> NULL
SELECT levenshtein(repeat('a', 10001), 'a');
--> ERROR 38000: exceeds the maximum length of 10000 characters
