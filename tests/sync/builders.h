#pragma once

#include <string>

#include "schema/model.h"
#include "sync/protocol.h"

namespace relais::testing {

// A case record with plausible values, to be changed field by field in tests.
class ACase {
 public:
  ACase()
      : record_{"0190a1b2-0000-7000-8000-000000000001", 5,
                std::vector<schema::Value>(schema::CasesTable().fields.size())} {
    With("last_name", "Martin").With("first_name", "Élodie").With("opened_on", "2026-01-05");
    With("phone", "0611223344").With("email", "elodie.martin@exemple.fr").With("territory", "hautes-alpes-gap");
  }
  ACase& With(std::string_view field, schema::Value v) {
    record_.values[static_cast<size_t>(schema::CasesTable().FieldIndex(field))] = std::move(v);
    return *this;
  }
  ACase& Version(int64_t v) {
    record_.version = v;
    return *this;
  }
  schema::Value Get(std::string_view field) const {
    return record_.values[static_cast<size_t>(schema::CasesTable().FieldIndex(field))];
  }
  const schema::Record& record() const { return record_; }

 private:
  schema::Record record_;
};

inline sync::Change AnUpdate(const ACase& base, std::string_view field, schema::Value value, std::string hlc,
                             int64_t base_version = 5) {
  sync::Change c;
  c.change_id = "0190a1b2-0000-7000-8000-0000000000ff";
  c.table = "cases";
  c.record_id = base.record().id;
  c.op = sync::Op::kUpdate;
  c.base_version = base_version;
  c.hlc = std::move(hlc);
  c.fields.push_back({std::string(field), std::move(value), base.Get(field)});
  return c;
}

}  // namespace relais::testing
