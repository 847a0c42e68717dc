#include "base/hardening.h"

#include <sys/resource.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <cstdlib>
#include <cstring>

namespace relais {

void HardenProcess() {
  ::umask(077);
  const char* asked = std::getenv("RELAIS_CORE_DUMPS");
  if (asked != nullptr && std::strcmp(asked, "1") == 0) return;  // debugging: dumps as the system allows
  const rlimit none{0, 0};
  (void)::setrlimit(RLIMIT_CORE, &none);
#if defined(__linux__)
  (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

}  // namespace relais
