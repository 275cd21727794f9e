SELECT geohash_encode(57.64911, 10.40744, 11);
--> u4pruydqqvj
SELECT geohash_encode(37.7749, -122.4194, 9);
--> 9q8yyk8yt
SELECT geohash_encode(0, 0, 1), geohash_encode(-90, -180, 12), geohash_encode(90, 180, 12);
--> s|000000000000|zzzzzzzzzzzz
SELECT geohash_encode(NULL, 0, 5);
--> NULL
SELECT geohash_encode(0, 0, 13);
--> ERROR 38000: precision must be between 1 and 12, not 13
SELECT geohash_encode(0, 200, 5);
--> ERROR 38000: not a point in degrees
