// A time on the wire (google.protobuf.Timestamp) and as absl::Time, both ways. Header-only,
// so the clients of the API (acdctl, acd-sim load) share it without linking the server.
// Times go through whole microseconds, as the core keeps them: an int64 of them spans
// Timestamp's whole range (years 1 to 9999), where nanoseconds would stop at 1677 and 2262.
#ifndef ACD_ENGINE_SERVER_TIMESTAMP_H_
#define ACD_ENGINE_SERVER_TIMESTAMP_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>

#include "absl/time/time.h"

namespace acd::server {

// Whole microseconds, rounded down: seconds, and the nanoseconds past them (0..999,999,000).
inline void ToProto(absl::Time in, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(in);
  int64_t seconds = micros / 1'000'000;
  int64_t rest = micros % 1'000'000;
  if (rest < 0) {
    rest += 1'000'000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1'000));
}

inline absl::Time FromProto(const google::protobuf::Timestamp& in) {
  return absl::FromUnixSeconds(in.seconds()) + absl::Nanoseconds(in.nanos());
}

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_TIMESTAMP_H_
