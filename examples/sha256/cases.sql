SELECT sha256_hex(''::bytea);
--> e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
SELECT sha256_hex('abc'::bytea);
--> ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
-- two blocks: 56 bytes of input need a second block for the length
SELECT sha256_hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'::bytea);
--> 248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1
SELECT sha256_hex('\x00ff'::bytea);
--> 06eb7d6a69ee19e5fbdf749018d3d2abfa04bcbd1365db312eb86dc7169389b8
SELECT sha256_hex(NULL);
--> NULL
