-- luhn_check(s text) RETURNS boolean
SELECT luhn_check('79927398713');
--> t
SELECT luhn_check('79927398710');
--> f
-- spaces and dashes are ignored
SELECT luhn_check('4111 1111 1111 1111'), luhn_check('3782-822463-10005'), luhn_check('4111-1111-1111-1112');
--> t|t|f
-- any other non-digit is false
SELECT luhn_check('7992739871x'), luhn_check('+79927398713'), luhn_check('７９９２７３９８７１３');
--> f|f|f
-- no digits at all is false
SELECT luhn_check(''), luhn_check(' - - ');
--> f|f
-- STRICT: NULL in, NULL out
SELECT luhn_check(NULL);
--> NULL
SELECT s, luhn_check(s) FROM (VALUES ('4539 3195 0343 6467'), ('4539 3195 0343 6468'), (NULL)) v(s) ORDER BY s;
--> 4539 3195 0343 6467|t
--> 4539 3195 0343 6468|f
--> NULL|NULL
