// The passphrase of an encrypted replica asked on the terminal (/dev/tty, echo off): what `relais`
// and `relais-ui` give client::Passphrases::prompt when a person is at the keyboard.
#pragma once

#include <string>

#include "base/result.h"

namespace relais::client {

// Asks `question`, twice when `confirm` (kValidation when the two differ). kLocked when there is
// no terminal.
Result<std::string> PromptPassphrase(const std::string& question, bool confirm);

}  // namespace relais::client
