#include "server/store_open.h"

#include "server/pg_store.h"
#include "server/sqlite_store.h"

namespace relais::server {

Result<std::unique_ptr<CentralStore>> OpenStore(const std::string& spec, OpenMode mode, const Clock& clock) {
  if (pg::IsPostgresUrl(spec)) {
    auto store = PgStore::Open(spec, mode, clock);
    if (!store) return store.error();
    return std::unique_ptr<CentralStore>(std::move(*store));
  }
  auto store = SqliteStore::Open(spec, mode, clock);
  if (!store) return store.error();
  return std::unique_ptr<CentralStore>(std::move(*store));
}

std::string DescribeStore(const std::string& spec) { return pg::IsPostgresUrl(spec) ? pg::DescribeUrl(spec) : spec; }

}  // namespace relais::server
