// The setcap registry on disk: PORTBIND_STATE_DIR/setcap.registry (fixed at build time).
//
// MUST-list:
//  1. Every directory from / down to the state directory is opened with O_NOFOLLOW and must
//     be root-owned and not writable by group or others; the file must be a root-owned
//     regular file, not writable by group or others, at most kMaxRegistrySize bytes.
//  2. Readers hold a shared, writers an exclusive flock() on the state directory for the
//     whole read-modify-write, so concurrent runs (an admin and the APT hook) never lose a
//     grant.
//  3. Writes are atomic: a temporary file in the same directory is written, fsync()ed,
//     made root:root 0644, renamed over the registry, and the directory is fsync()ed; a
//     crash leaves the old registry or the new one, never a mix.
//  4. A registry that fails to parse is an Error (file:line), never treated as empty.
#pragma once

#include <string>

#include "launcher/setcap/registry.h"
#include "launcher/unique_fd.h"
#include "policy/result.h"

namespace portbind {

class RegistryStore {
  public:
    enum class Access {
        Read,    // shared lock; a missing state directory is an empty registry
        Update,  // exclusive lock; a missing state directory is an empty registry
        Create,  // exclusive lock; the state directory is created (root:root 0755) if missing
    };

    static Result<RegistryStore> open(Access access);

    // The registry's path, for messages and the man page.
    static std::string file_path();

    Result<Registry> load() const;
    Status save(const Registry& registry) const;

  private:
    explicit RegistryStore(UniqueFd dir) : dir_(std::move(dir)) {}
    UniqueFd dir_;  // the state directory, locked; invalid if it does not exist
};

}  // namespace portbind
