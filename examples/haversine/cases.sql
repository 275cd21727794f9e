-- Paris to London
SELECT haversine_km(48.8566, 2.3522, 51.5074, -0.1278);
--> 343.55606034104164
SELECT haversine_km(0, 0, 0, 0);
--> 0
-- half the equator, and pole to pole: the same half circumference
SELECT haversine_km(0, 0, 0, 180), haversine_km(90, 0, -90, 0);
--> 20015.086796020572|20015.086796020572
-- STRICT: a NULL argument gives NULL
SELECT haversine_km(NULL, 0, 0, 0);
--> NULL
SELECT haversine_km(91, 0, 0, 0);
--> ERROR 38000: not a point in degrees: latitude 91, longitude 0
-- over a table's rows
SELECT round(haversine_km(lat, lon, 0, 0)) FROM (VALUES (0.0, 1.0), (1.0, 0.0)) AS t(lat, lon) ORDER BY 1;
--> 111
--> 111
