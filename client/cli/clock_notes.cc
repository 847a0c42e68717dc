#include "client/cli/clock_notes.h"

#include <cstdlib>
#include <iostream>

namespace relais::cli {

std::string DurationText(int64_t ms) {
  // Rounded, not cut: a clock a month behind, measured across a request, is 29.99 days off.
  const int64_t minutes = (ms + 30000) / 60000, hours = (ms + 1800000) / 3600000, days = (ms + 43200000) / 86400000;
  if (days >= 2) return std::to_string(days) + " jours";
  if (hours >= 2) return std::to_string(hours) + " h";
  return std::to_string(minutes) + " min";
}

std::string ClockWarning(int64_t skew_ms) {
  if (std::abs(skew_ms) <= kClockWarningMs) return {};
  std::string text = std::string("l'horloge de cet ordinateur ") + (skew_ms > 0 ? "avance" : "retarde") + " de " +
                     DurationText(std::abs(skew_ms)) +
                     " sur celle du centre. Réglez sa date et son heure ; l'ordre de vos saisies reste juste "
                     "(horloge hybride)";
  if (skew_ms > 0) text += ", le centre les date à leur réception";
  return text + ".";
}

Result<std::optional<int64_t>> KnownClockSkew(client::Replica& replica) {
  auto kept = replica.GetState(kStateClockSkew);
  if (!kept) return kept.error();
  if (!*kept) return std::optional<int64_t>();
  char* end = nullptr;
  const long long skew = std::strtoll((*kept)->c_str(), &end, 10);
  if (end == (*kept)->c_str() || *end != '\0') return std::optional<int64_t>();
  return std::optional<int64_t>(skew);
}

Result<std::string> DateWarning(client::Replica& replica, std::string_view field, const std::string& date,
                                bool defaulted, std::string_view fix) {
  auto skew = KnownClockSkew(replica);
  if (!skew) return skew.error();
  const int64_t off = skew->value_or(0);
  const bool wrong_clock = std::abs(off) > kClockWarningMs;
  // Today as the centre's clock has it: this clock corrected by the last measure.
  const std::string today = client::LocalToday(ManualClock(replica.clock().NowMs() - off));
  std::string out;
  if (defaulted && wrong_clock) {
    out = std::string(field) + " prend la date du jour de cet ordinateur (" + date + "), dont l'horloge " +
          (off > 0 ? "avance" : "retarde") + " de " + DurationText(std::abs(off)) +
          " sur celle du centre (dernière synchronisation) : le centre est au " + today +
          ". Corrigez la date si besoin (" + std::string(fix) + ") et réglez l'horloge.";
  } else if (date > today) {
    out = std::string(field) + " " + date + " est dans le futur (nous sommes le " + today +
          (skew->has_value() ? " selon le centre" : "") + ") : vérifiez la date" +
          (defaulted ? " et l'horloge de cet ordinateur." : ".");
  }
  return out;
}

Status WarnAboutDate(client::Replica& replica, std::string_view field, const std::string& date, bool defaulted,
                     std::string_view fix) {
  auto warning = DateWarning(replica, field, date, defaulted, fix);
  if (!warning) return warning.error();
  if (!warning->empty()) std::cerr << "attention : " << *warning << "\n";
  return OkStatus();
}

}  // namespace relais::cli
