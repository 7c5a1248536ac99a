// Core values to wire messages: times become protobuf Timestamps, and back.
#include "engine/server/api_mapping.h"

#include <catch2/catch.hpp>

#include "absl/time/civil_time.h"

namespace acd::server {
namespace {

google::protobuf::Timestamp Stamp(absl::Time t) {
  google::protobuf::Timestamp out;
  ToProto(t, &out);
  return out;
}

TEST_CASE("a time becomes whole seconds and the nanoseconds past them, over Timestamp's range") {
  const absl::TimeZone utc = absl::UTCTimeZone();
  struct Case {
    absl::Time time;
    int64_t seconds;
    int32_t nanos;
  };
  for (const Case& c : {
           Case{absl::UnixEpoch(), 0, 0},
           Case{absl::FromUnixMicros(1'795'000'000'123'456), 1'795'000'000, 123'456'000},
           // Before 1970 the seconds round down and the nanoseconds stay positive.
           Case{absl::FromUnixMicros(-1), -1, 999'999'000},
           Case{absl::FromUnixMicros(-1'500'000), -2, 500'000'000},
           // Beyond what nanoseconds since 1970 in an int64 hold (1677-09-21 to 2262-04-11).
           Case{absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), utc), -62'135'596'800, 0},
           Case{absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), utc), 253'402'300'799,
                0},
           // Below a microsecond is dropped, as the core keeps whole microseconds.
           Case{absl::FromUnixNanos(1'001), 0, 1'000},
       }) {
    INFO(absl::FormatTime(c.time));
    const google::protobuf::Timestamp t = Stamp(c.time);
    CHECK(t.seconds() == c.seconds);
    CHECK(t.nanos() == c.nanos);
    // And back, to the whole microsecond (all but the last case are whole microseconds).
    CHECK(FromProto(t) == absl::FromUnixMicros(absl::ToUnixMicros(c.time)));
  }
}

}  // namespace
}  // namespace acd::server
