/* haversine_km: the great-circle distance in kilometres between two points given
 * in degrees, on a sphere of radius 6371 km (the mean Earth radius). */
#include <math.h>

#include "wasql.h"

static int bad_point(wasql_row *row, double lat, double lon) {
    if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) {
        wasql_errorf(row, "not a point in degrees: latitude %g, longitude %g", lat, lon);
        return 1;
    }
    return 0;
}

WASQL_FUNCTION(haversine_km, "lat1 double precision, lon1 double precision, lat2 double precision, lon2 double precision",
               "double precision", "IMMUTABLE PARALLEL SAFE") {
    double lat1 = wasql_arg_double(row, 0), lon1 = wasql_arg_double(row, 1);
    double lat2 = wasql_arg_double(row, 2), lon2 = wasql_arg_double(row, 3);
    if (bad_point(row, lat1, lon1) || bad_point(row, lat2, lon2))
        return;
    const double rad = 3.14159265358979323846 / 180;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    wasql_return_double(row, 2 * 6371.0 * asin(fmin(1, sqrt(a))));
}
