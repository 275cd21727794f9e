SELECT slugify('Hello, World!');
--> hello-world
SELECT slugify('  Crème Brûlée: 10 façons  ');
--> creme-brulee-10-facons
SELECT slugify('Straße & Æsir'), slugify('日本語 text');
--> strasse-aesir|text
SELECT slugify(''), slugify('---');
--> |
SELECT slugify(NULL);
--> NULL
SELECT slugify(s) FROM (VALUES ('WebAssembly in SQL'), ('C''est la vie')) AS t(s) ORDER BY 1;
--> c-est-la-vie
--> webassembly-in-sql
