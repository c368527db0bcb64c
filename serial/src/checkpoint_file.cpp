#include "parsl/serial/checkpoint_file.hpp"

#include "checkpoint_image.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace parsl::serial {

namespace {

constexpr const char* kFormat = "parsl-mpi checkpoint";
constexpr char kMagic[8] = {'P', 'R', 'S', 'L', 'C', 'K', 'P', 'T'};
constexpr unsigned char kHdf5Signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

// The header in the user block. Every field little-endian.
//   0  magic "PRSLCKPT"     8  u32 version     12 u32 header size (512)
//  16  u64 file size       24  u64 entries n
//  32  u64 where /keys' bytes start (16 n bytes)
//  40  u64 where /value_offsets' bytes start (8 (n+1) bytes)
//  48  u64 where /values' bytes start          56 u64 their length
//  64  XXH3-128 of the whole file with these 16 bytes zeroed (high, low)
//  80..511 zero
constexpr std::size_t kChecksumAt = 64;

struct Header {
  std::uint32_t version = 0, header_size = 0;
  std::uint64_t file_size = 0, entries = 0, keys_at = 0, offsets_at = 0, values_at = 0, values_bytes = 0;
  XXH128_hash_t checksum{0, 0};
};

void put64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void put32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint64_t get64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint32_t get32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::array<unsigned char, kCheckpointHeaderSize> encode_header(const Header& h) {
  std::array<unsigned char, kCheckpointHeaderSize> b{};
  std::memcpy(b.data(), kMagic, 8);
  put32(b.data() + 8, h.version);
  put32(b.data() + 12, h.header_size);
  put64(b.data() + 16, h.file_size);
  put64(b.data() + 24, h.entries);
  put64(b.data() + 32, h.keys_at);
  put64(b.data() + 40, h.offsets_at);
  put64(b.data() + 48, h.values_at);
  put64(b.data() + 56, h.values_bytes);
  put64(b.data() + kChecksumAt, h.checksum.high64);
  put64(b.data() + kChecksumAt + 8, h.checksum.low64);
  return b;
}

Header decode_header(const unsigned char* b) {
  Header h;
  h.version = get32(b + 8);
  h.header_size = get32(b + 12);
  h.file_size = get64(b + 16);
  h.entries = get64(b + 24);
  h.keys_at = get64(b + 32);
  h.offsets_at = get64(b + 40);
  h.values_at = get64(b + 48);
  h.values_bytes = get64(b + 56);
  h.checksum.high64 = get64(b + kChecksumAt);
  h.checksum.low64 = get64(b + kChecksumAt + 8);
  return h;
}

// The checksum of a whole file image whose checksum field is taken as zero.
XXH128_hash_t checksum_of(const unsigned char* data, std::size_t size) {
  XXH3_state_t state;
  XXH3_INITSTATE(&state);
  XXH3_128bits_reset(&state);
  const unsigned char zero[16] = {};
  XXH3_128bits_update(&state, data, kChecksumAt);
  XXH3_128bits_update(&state, zero, sizeof zero);
  XXH3_128bits_update(&state, data + kChecksumAt + 16, size - kChecksumAt - 16);
  return XXH3_128bits_digest(&state);
}

// Owns one HDF5 identifier; closes it with the right function. Never throws.
class H5Id {
 public:
  H5Id(hid_t id, herr_t (*close)(hid_t)) noexcept : id_(id), close_(close) {}
  ~H5Id() {
    if (id_ >= 0) close_(id_);
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  hid_t get() const noexcept { return id_; }
  bool ok() const noexcept { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// Owns a file descriptor. Never throws.
class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void fail(const std::filesystem::path& p, const std::string& what) {
  throw CheckpointError("checkpoint file " + bounded_path(p) + ": " + what);
}

// HDF5 prints its error stack by default; our messages say what matters. The setting is per
// thread in a thread-safe HDF5, so every thread that writes silences it for itself.
void quiet_hdf5() {
  thread_local bool done = false;
  if (done) return;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  done = true;
}

// Writes one contiguous dataset and returns where its bytes lie in the file (0 when empty).
std::uint64_t write_dataset(const std::filesystem::path& p, hid_t file, const char* name, hid_t file_type,
                            hid_t mem_type, int rank, const hsize_t* dims, const void* data) {
  H5Id space(H5Screate_simple(rank, dims, nullptr), H5Sclose);
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (!space.ok() || !dcpl.ok() || H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS) < 0)
    fail(p, std::string("cannot create dataset ") + name);
  H5Id set(H5Dcreate2(file, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), H5Dclose);
  if (!set.ok()) fail(p, std::string("cannot create dataset ") + name);
  bool empty = false;
  for (int i = 0; i < rank; ++i) empty = empty || dims[i] == 0;
  if (empty) return 0;
  if (H5Dwrite(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(p, std::string("cannot write dataset ") + name);
  const haddr_t at = H5Dget_offset(set.get());
  if (at == HADDR_UNDEF) fail(p, std::string("HDF5 did not place dataset ") + name + " contiguously");
  // H5Dget_offset counts from the start of the file, user block included (seen with 1.10).
  return static_cast<std::uint64_t>(at);
}

void sync_path(const std::filesystem::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Reads exactly `size` bytes at `offset`; false at an early end of file.
bool read_at(int fd, unsigned char* out, std::size_t size, std::uint64_t offset, int& error) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno;
      return false;
    }
    if (n == 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool write_at(int fd, const unsigned char* data, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string open_failure(int err) {
  switch (err) {
    case ENOENT: return "does not exist";
    case ELOOP: return "is a symbolic link that loops (or a chain of too many links)";
    case ENAMETOOLONG: return "has a path or a name too long for the system";
    case EACCES: return "cannot be read: permission denied";
    case ENOTDIR: return "does not exist (a part of its path is not a folder)";
    default: return std::string("cannot be opened: ") + std::strerror(err);
  }
}

// Is [at, at + bytes) inside the file of `size` bytes, and past the header unless empty? An
// empty region's place must be inside the file too: it is still used as a position.
bool region_ok(std::uint64_t at, std::uint64_t bytes, std::uint64_t size) {
  return at <= size && bytes <= size - at && (bytes == 0 || at >= kCheckpointHeaderSize);
}

// The header's magic, version, size and file length: refuses a file before it is read whole.
void check_header(const std::filesystem::path& path, const unsigned char* head, std::uint64_t size) {
  if (std::memcmp(head, kMagic, sizeof kMagic) != 0) {
    if (std::memcmp(head, kHdf5Signature, sizeof kHdf5Signature) == 0)
      fail(path, "is an HDF5 file without a verified parsl-mpi header: a version 1 checkpoint (written before "
                 "checkpoints carried checksums; this build reads version " +
                     std::to_string(kCheckpointVersion) + " only) or another program's file");
    fail(path, "is not a parsl-mpi checkpoint segment (no parsl-mpi header at its start)");
  }
  const Header h = decode_header(head);
  if (h.version != static_cast<std::uint32_t>(kCheckpointVersion))
    fail(path, "has format version " + std::to_string(h.version) + "; this build reads version " +
                   std::to_string(kCheckpointVersion));
  if (h.header_size != kCheckpointHeaderSize)
    fail(path, "has a header of " + std::to_string(h.header_size) + " bytes, not " +
                   std::to_string(kCheckpointHeaderSize) + " (damaged)");
  if (h.file_size != size)
    fail(path, "is " + std::to_string(size) + " bytes long but was written with " + std::to_string(h.file_size) +
                   ": it was truncated or appended to");
}

}  // namespace

std::string bounded_path(const std::filesystem::path& path) {
  const std::string& s = path.native();
  constexpr std::size_t kKeep = 90;
  if (s.size() <= 2 * kKeep + 20) return s;
  return s.substr(0, kKeep) + "...(" + std::to_string(s.size() - 2 * kKeep) + " characters)..." +
         s.substr(s.size() - kKeep);
}

void write_checkpoint_segment(const std::filesystem::path& path, const std::vector<CheckpointEntry>& entries) {
  quiet_hdf5();
  const std::filesystem::path tmp = path.string() + ".tmp";
  Header h;
  h.version = kCheckpointVersion;
  h.header_size = kCheckpointHeaderSize;
  h.entries = entries.size();
  {
    H5Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
    if (!fcpl.ok() || H5Pset_userblock(fcpl.get(), kCheckpointHeaderSize) < 0)
      fail(tmp, "cannot prepare its HDF5 properties");
    H5Id file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), H5Fclose);
    if (!file.ok()) fail(tmp, "cannot create it (does the folder exist and is it writable?)");
    {
      H5Id str(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(str.get(), std::strlen(kFormat));
      H5Id scalar(H5Screate(H5S_SCALAR), H5Sclose);
      H5Id fmt(H5Acreate2(file.get(), "format", str.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
      H5Id ver(H5Acreate2(file.get(), "version", H5T_STD_I32LE, scalar.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
      const int version = kCheckpointVersion;
      if (!fmt.ok() || !ver.ok() || H5Awrite(fmt.get(), str.get(), kFormat) < 0 ||
          H5Awrite(ver.get(), H5T_NATIVE_INT, &version) < 0)
        fail(tmp, "cannot write its attributes");
    }
    std::vector<std::uint64_t> keys, offsets{0};
    std::string values;
    keys.reserve(entries.size() * 2);
    offsets.reserve(entries.size() + 1);
    std::size_t total = 0;
    for (const auto& e : entries) total += e.value.size();
    values.reserve(total);
    for (const auto& e : entries) {
      keys.push_back(e.key.high);
      keys.push_back(e.key.low);
      values += e.value;
      offsets.push_back(values.size());
    }
    const hsize_t kd[2] = {entries.size(), 2}, od[1] = {offsets.size()}, vd[1] = {values.size()};
    h.keys_at = write_dataset(tmp, file.get(), "keys", H5T_STD_U64LE, H5T_NATIVE_UINT64, 2, kd, keys.data());
    h.offsets_at =
        write_dataset(tmp, file.get(), "value_offsets", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, od, offsets.data());
    h.values_at = write_dataset(tmp, file.get(), "values", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, vd, values.data());
    h.values_bytes = values.size();
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) fail(tmp, "cannot flush it");
  }
  // HDF5 has closed the file: read it back whole, checksum it, and fill in the user block.
  {
    Fd fd(::open(tmp.c_str(), O_RDWR | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) fail(tmp, "cannot reopen it to write its header");
    h.file_size = static_cast<std::uint64_t>(st.st_size);
    std::string image(h.file_size, '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(image.data());
    int err = 0;
    if (h.file_size < kCheckpointHeaderSize || !read_at(fd.get(), bytes, image.size(), 0, err))
      fail(tmp, "cannot read it back to checksum it");
    auto head = encode_header(h);
    std::memcpy(bytes, head.data(), head.size());
    h.checksum = checksum_of(bytes, image.size());
    head = encode_header(h);
    if (!write_at(fd.get(), head.data(), head.size(), 0)) fail(tmp, "cannot write its header");
    if (::fsync(fd.get()) != 0) fail(tmp, std::string("cannot sync it: ") + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail(path, "cannot rename " + bounded_path(tmp) + " into place: " + ec.message());
  sync_path(path.parent_path().empty() ? "." : path.parent_path(), O_RDONLY | O_DIRECTORY);
}

std::vector<CheckpointEntry> read_checkpoint_segment(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer. O_NOCTTY: nor take a terminal.
  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0) fail(path, open_failure(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(path, std::string("cannot be examined: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(path, "is a folder, not a checkpoint segment");
  if (!S_ISREG(st.st_mode))
    fail(path, "is not a regular file (a FIFO, socket or device); a checkpoint segment is a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::array<unsigned char, kCheckpointHeaderSize> head{};
  int err = 0;
  if (size < kCheckpointHeaderSize || !read_at(fd.get(), head.data(), head.size(), 0, err)) {
    if (err != 0) fail(path, std::string("cannot be read: ") + std::strerror(err));
    fail(path, "is too short (" + std::to_string(size) +
                   " bytes) to be a checkpoint segment: it was not written whole, or is another kind of file");
  }
  // Read the rest only when the header says the file is as long as it is: never more than
  // the file holds, and a truncated file is named as such before anything else.
  check_header(path, head.data(), size);
  std::string image(size, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(image.data());
  std::memcpy(bytes, head.data(), head.size());
  if (!read_at(fd.get(), bytes + head.size(), size - head.size(), head.size(), err)) {
    if (err != 0) fail(path, std::string("cannot be read: ") + std::strerror(err));
    fail(path, "became shorter while it was read (is another program changing it?)");
  }
  return detail::parse_checkpoint_image(image, path);
}

namespace detail {

std::vector<CheckpointEntry> parse_checkpoint_image(std::string_view image, const std::filesystem::path& path) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(image.data());
  const std::uint64_t size = image.size();
  if (size < kCheckpointHeaderSize)
    fail(path, "is too short (" + std::to_string(size) +
                   " bytes) to be a checkpoint segment: it was not written whole, or is another kind of file");
  check_header(path, bytes, size);
  const Header h = decode_header(bytes);
  const XXH128_hash_t sum = checksum_of(bytes, image.size());
  if (sum.high64 != h.checksum.high64 || sum.low64 != h.checksum.low64)
    fail(path, "fails its checksum: it was altered or damaged after it was written, so none of its results "
               "can be trusted");
  // The checksum matched; the layout is still checked, so that even a file made to match
  // cannot lead the reader outside the image.
  const std::uint64_t n = h.entries;
  if (n > size / 16 || !region_ok(h.keys_at, 16 * n, size) || !region_ok(h.offsets_at, 8 * (n + 1), size) ||
      !region_ok(h.values_at, h.values_bytes, size) || (n > 0 && h.keys_at == 0) || h.offsets_at == 0 ||
      (h.values_bytes > 0 && h.values_at == 0))
    fail(path, "has a header that places its data outside the file (damaged)");
  std::vector<CheckpointEntry> out;
  out.reserve(n);
  std::uint64_t previous = get64(bytes + h.offsets_at);
  if (previous != 0) fail(path, "has value offsets that do not start at 0 (damaged)");
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t next = get64(bytes + h.offsets_at + 8 * (i + 1));
    if (next < previous || next > h.values_bytes)
      fail(path, "entry " + std::to_string(i) + " points outside the values (damaged offsets)");
    out.push_back(CheckpointEntry{
        ContentHash{get64(bytes + h.keys_at + 16 * i), get64(bytes + h.keys_at + 16 * i + 8)},
        std::string(image.substr(h.values_at + previous, next - previous))});
    previous = next;
  }
  if (previous != h.values_bytes) fail(path, "has values that its offsets do not account for (damaged)");
  return out;
}

}  // namespace detail

std::vector<std::filesystem::path> checkpoint_segments(const std::filesystem::path& source) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(source, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    throw CheckpointError("checkpoint path " + bounded_path(source) + ": " +
                          (ec == std::errc::too_many_symbolic_link_levels ? open_failure(ELOOP)
                           : ec == std::errc::filename_too_long           ? open_failure(ENAMETOOLONG)
                                                                          : ec.message()));
  if (!fs::is_directory(st)) return {source};  // the reader names a missing or bad file
  std::vector<fs::path> out;
  fs::directory_iterator it(source, ec), end;
  for (; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".h5") out.push_back(it->path());
  if (ec)
    throw CheckpointError("checkpoint folder " + bounded_path(source) + " cannot be listed: " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace parsl::serial
