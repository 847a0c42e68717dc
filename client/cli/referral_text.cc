#include "client/cli/referral_text.h"

#include "client/cli/output.h"
#include "client/record_json.h"

namespace relais::cli {

namespace {

const std::string& Text(const schema::Record& r, std::string_view name) {
  static const std::string kEmpty;
  const schema::Value& v = r.values[static_cast<size_t>(schema::ReferralsTable().FieldIndex(name))];
  return v ? *v : kEmpty;
}

std::string Shown(const schema::Record& r, std::string_view name) {
  const schema::Table& t = schema::ReferralsTable();
  return DisplayValue(t.FindField(name), r.values[static_cast<size_t>(t.FieldIndex(name))]);
}

}  // namespace

nlohmann::ordered_json ReferralJson(const client::ReferralView& view) {
  using nlohmann::ordered_json;
  ordered_json out = client::RecordToJson(schema::ReferralsTable(), view.referral, true, true);
  out["case_name"] = view.case_name.empty() ? ordered_json(nullptr) : ordered_json(view.case_name);
  out["organisation_name"] =
      view.organisation_name.empty() ? ordered_json(nullptr) : ordered_json(view.organisation_name);
  out["overdue"] = view.overdue;
  return out;
}

std::string ReferralTable(const std::vector<client::ReferralView>& views, bool with_person) {
  std::vector<std::string> headings = {"Orientation", "Personne", "Organisme", "Prestation",
                                       "État",        "Envoyée le", "Échéance", "Alerte"};
  if (!with_person) headings.erase(headings.begin() + 1);
  std::vector<std::vector<std::string>> rows;
  for (const client::ReferralView& v : views) {
    const schema::Record& r = v.referral;
    std::vector<std::string> row = {r.id,
                                    v.case_name.empty() ? Text(r, "case_id") : v.case_name,
                                    v.organisation_name.empty() ? Text(r, "organisation") : v.organisation_name,
                                    Shown(r, "service"),
                                    Shown(r, "status"),
                                    Text(r, "sent_on"),
                                    Text(r, "due_on"),
                                    v.overdue ? "EN RETARD" : ""};
    if (!with_person) row.erase(row.begin() + 1);
    rows.push_back(std::move(row));
  }
  return FormatTable(headings, rows);
}

}  // namespace relais::cli
