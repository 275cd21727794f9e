/* geohash_encode: the geohash (base 32, https://en.wikipedia.org/wiki/Geohash) of a
 * point in degrees, with `precision` characters (1 to 12). */
#include "wasql.h"

WASQL_FUNCTION(geohash_encode, "lat double precision, lon double precision, precision integer", "text",
               "IMMUTABLE PARALLEL SAFE") {
    static const char base32[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    double lat = wasql_arg_double(row, 0), lon = wasql_arg_double(row, 1);
    int32_t precision = wasql_arg_int(row, 2);
    if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) {
        wasql_errorf(row, "not a point in degrees: latitude %g, longitude %g", lat, lon);
        return;
    }
    if (precision < 1 || precision > 12) {
        wasql_errorf(row, "precision must be between 1 and 12, not %d", (int)precision);
        return;
    }
    double lat_lo = -90, lat_hi = 90, lon_lo = -180, lon_hi = 180;
    char out[12];
    int even = 1; /* bits alternate: longitude first */
    for (int c = 0; c < precision; c++) {
        int idx = 0;
        for (int bit = 0; bit < 5; bit++, even = !even) {
            double *lo = even ? &lon_lo : &lat_lo, *hi = even ? &lon_hi : &lat_hi;
            double v = even ? lon : lat, mid = (*lo + *hi) / 2;
            idx <<= 1;
            if (v >= mid) {
                idx |= 1;
                *lo = mid;
            } else {
                *hi = mid;
            }
        }
        out[c] = base32[idx];
    }
    wasql_return_bytes(row, out, (uint32_t)precision);
}
