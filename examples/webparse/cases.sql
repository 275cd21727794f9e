-- json_extract(doc json, path text): a dot-separated path of keys and array indexes
SELECT json_extract('{"order": {"items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]}}', 'order.items.1.sku');
--> B-7
SELECT json_extract('{"a": {"n": 2.50, "ok": true, "z": null}}', 'a.n'), json_extract('{"a": {"ok": true}}', 'a.ok');
--> 2.50|true
SELECT json_extract('{"a": {"z": null}}', 'a.z'), json_extract('{"a": 1}', 'nope'), json_extract('[1, 2]', '5');
--> NULL|NULL|NULL
SELECT json_extract('{"a": {"y": [1, 2], "x": {}}}', 'a');
--> {"x":{},"y":[1,2]}
SELECT json_extract(NULL, 'a'), json_extract('{}', NULL);
--> NULL|NULL
-- (a document that is not JSON never reaches the function on PostgreSQL: json's input checks it)
-- url_part(url text, part text)
SELECT url_part('https://ann@example.com:8443/docs/a%20b?x=1&y=two#top', 'host'), url_part('https://ann@example.com:8443/docs/a%20b?x=1&y=two#top', 'port');
--> example.com|8443
SELECT url_part('https://ann@example.com:8443/docs/a%20b?x=1&y=two#top', 'path'), url_part('https://ann@example.com:8443/docs/a%20b?x=1&y=two#top', 'query.y');
--> /docs/a b|two
SELECT url_part('https://example.com', 'port'), url_part('https://example.com/?q=1', 'query.missing');
--> NULL|NULL
SELECT url_part('https://example.com', 'colour');
--> ERROR 38000: unknown URL part "colour"
SELECT url_part('http://[::1', 'host');
--> ERROR 38000: missing ']' in host
-- email_normalize(email text)
SELECT email_normalize('  John.Doe+newsletter@GoogleMail.com ');
--> johndoe@gmail.com
SELECT email_normalize('Ann.Lee+x@Example.ORG');
--> ann.lee@example.org
SELECT email_normalize(NULL);
--> NULL
SELECT email_normalize('not-an-address');
--> ERROR 38000: not an e-mail address
SELECT email_normalize(e), count(*) FROM (VALUES ('a.b@gmail.com'), ('ab+1@gmail.com'), ('A.B@googlemail.com'), ('x@y.z')) AS t(e) GROUP BY 1 ORDER BY 1;
--> ab@gmail.com|3
--> x@y.z|1
