// What relais says about a device clock that is wrong: at init and sync (measured against the
// centre), at a command that takes today's date as a default from that clock, and in status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "client/replica.h"

namespace relais::cli {

// sync_state: this clock minus the centre's (ms), measured at the last init or sync.
inline constexpr const char* kStateClockSkew = "clock_skew_ms";

// A device clock further than this from the centre's is worth a warning (the centre clamps stamps
// from the future at the same distance, server/push.h kMaxFutureSkewMs).
inline constexpr int64_t kClockWarningMs = 5 * 60 * 1000;

// "30 jours", "3 h", "12 min": how far off a clock is, for people.
std::string DurationText(int64_t ms);

// "l'horloge de cet ordinateur retarde de 30 jours sur celle du centre. Réglez sa date…", or empty
// when `skew_ms` is within kClockWarningMs.
std::string ClockWarning(int64_t skew_ms);

// The skew kept at the last init or sync, if any.
Result<std::optional<int64_t>> KnownClockSkew(client::Replica& replica);

// A warning about the date `date` (AAAA-MM-JJ) that `field` takes: when it is today's date by
// this clock (`defaulted`) and the clock is known to be off, or when it lies after today by the
// centre's clock (or by this clock when no skew is known). `fix` says how to correct it. Empty when
// there is nothing to say.
Result<std::string> DateWarning(client::Replica& replica, std::string_view field, const std::string& date,
                                bool defaulted, std::string_view fix);

// DateWarning, printed on stderr as "attention : …" when there is something to say.
Status WarnAboutDate(client::Replica& replica, std::string_view field, const std::string& date, bool defaulted,
                     std::string_view fix);

}  // namespace relais::cli
