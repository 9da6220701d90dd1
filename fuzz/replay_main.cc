// fuzz_replay: runs files through a fuzz target's entry point, with no fuzz
// engine, so a corpus or a crash input is a plain test.
//
//   fuzz_replay TARGET PATH...
//
// A PATH is a file or a directory (its files, sorted; README* and dot
// files skipped; a missing directory counts as empty, so a target without
// regressions yet needs no placeholder). A broken invariant aborts with
// the name of the file that broke it on stderr.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "fuzz_target.h"

namespace tws::fuzz {

namespace {

std::map<std::string, Entry>& targets() {
  static std::map<std::string, Entry> all;
  return all;
}

// The file being run, for the abort handler (async-signal-safe to write).
char g_current[4096];

void on_abort(int) {
  const char prefix[] = "fuzz_replay: input that failed: ";
  (void)!::write(2, prefix, sizeof prefix - 1);
  (void)!::write(2, g_current, std::strlen(g_current));
  (void)!::write(2, "\n", 1);
  signal(SIGABRT, SIG_DFL);
  raise(SIGABRT);
}

bool skipped(const std::filesystem::path& p) {
  std::string name = p.filename().string();
  return name.empty() || name[0] == '.' || name.rfind("README", 0) == 0;
}

}  // namespace

bool register_target(const char* name, Entry entry) {
  targets()[name] = entry;
  return true;
}

}  // namespace tws::fuzz

int main(int argc, char** argv) {
  using namespace tws::fuzz;
  namespace fs = std::filesystem;
  if (argc < 2 || !targets().count(argv[1])) {
    std::fprintf(stderr, "usage: fuzz_replay TARGET PATH...\ntargets:");
    for (const auto& [name, entry] : targets()) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 100;
  }
  Entry entry = targets()[argv[1]];
  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) {
    fs::path p(argv[i]);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> here;
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && !skipped(e.path())) here.push_back(e.path());
      std::sort(here.begin(), here.end());
      files.insert(files.end(), here.begin(), here.end());
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    }
  }
  signal(SIGABRT, on_abort);
  for (const fs::path& f : files) {
    std::snprintf(g_current, sizeof g_current, "%s", f.c_str());
    std::ifstream in(f, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("fuzz_replay %s: %zu inputs\n%zu passed, 0 failed\n", argv[1], files.size(),
              files.size());
  return 0;
}
