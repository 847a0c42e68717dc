#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "client/cli/commands.h"
#include "client/records.h"

namespace relais::cli {

// The steps that `case` and `contact` commands share, generic over the table. Each returns the
// command's outcome and prints the result on success.

Status AddRecord(Context& ctx, const schema::Table& table, const client::FieldValues& values);
// kUsage when `changes` is empty. Prints the record, noting when nothing changed.
Status EditRecord(Context& ctx, const schema::Table& table, const std::string& id, const client::FieldValues& changes);
Status ListRecords(Context& ctx, const schema::Table& table, const client::ListFilter& filter,
                   const std::vector<std::string_view>& columns);
// The words are joined: `relais case search jean briancon` looks for both.
Status SearchRecords(Context& ctx, const schema::Table& table, const std::vector<std::string>& words, size_t limit,
                     const std::vector<std::string_view>& columns);

// `GROUP edit ID --FIELD VALUE… [--clear FIELD]…` for every field of `table`. `complete`, when
// given, completes the values given before they are written (a case's consent takes its date).
void AddEditCommand(CLI::App& group, Context& ctx, const schema::Table& table, const std::string& description,
                    std::function<Status(Context&, client::FieldValues&)> complete = {});
// `GROUP search TEXT… [--limit N]`, printing `columns`.
void AddSearchCommand(CLI::App& group, Context& ctx, const schema::Table& table, const std::string& description,
                      const std::vector<std::string_view>& columns);

// The record, or kNotFound with a hint on how to find ids.
Result<schema::Record> FindRecord(client::Records& records, const schema::Table& table, const std::string& id);

// The case a merged case now redirects to (following merged_into, a chain of merges too), or
// nullopt when `record` was not merged. Errors only on a failure to read the replica.
Result<std::optional<std::string>> SurvivorOf(client::Records& records, const schema::Table& table,
                                              const schema::Record& record);

// OK unless `record` is a case merged into another: then kValidation naming the surviving case, so
// that nothing is written on a redirect.
Status RefuseMerged(client::Records& records, const schema::Table& table, const schema::Record& record);

}  // namespace relais::cli
