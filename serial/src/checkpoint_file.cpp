#include "parsl/serial/checkpoint_file.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace parsl::serial {

namespace {

constexpr const char* kFormat = "parsl-mpi checkpoint";

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

[[noreturn]] void fail(const std::filesystem::path& p, const std::string& what) {
  throw CheckpointError("checkpoint file " + p.string() + ": " + what);
}

// HDF5 prints its error stack by default; our messages say what matters.
void quiet_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

void write_dataset(const std::filesystem::path& p, hid_t file, const char* name, hid_t type, int rank,
                   const hsize_t* dims, const void* data) {
  H5Id space(H5Screate_simple(rank, dims, nullptr), H5Sclose);
  H5Id set(H5Dcreate2(file, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (!space.ok() || !set.ok()) fail(p, std::string("cannot create dataset ") + name);
  bool empty = false;
  for (int i = 0; i < rank; ++i) empty = empty || dims[i] == 0;
  if (!empty && H5Dwrite(set.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(p, std::string("cannot write dataset ") + name);
}

std::vector<hsize_t> dims_of(const std::filesystem::path& p, hid_t set, const char* name) {
  H5Id space(H5Dget_space(set), H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) fail(p, std::string("dataset ") + name + " has no readable shape");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

void sync_path(const std::filesystem::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_checkpoint_segment(const std::filesystem::path& path, const std::vector<CheckpointEntry>& entries) {
  quiet_hdf5();
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    H5Id file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file.ok()) fail(tmp, "cannot create it (does the folder exist and is it writable?)");
    // Attributes first: a reader checks them before anything else.
    {
      H5Id str(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(str.get(), std::strlen(kFormat));
      H5Id scalar(H5Screate(H5S_SCALAR), H5Sclose);
      H5Id fmt(H5Acreate2(file.get(), "format", str.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
      H5Id ver(H5Acreate2(file.get(), "version", H5T_NATIVE_INT, scalar.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
      const int version = kCheckpointVersion;
      if (!fmt.ok() || !ver.ok() || H5Awrite(fmt.get(), str.get(), kFormat) < 0 ||
          H5Awrite(ver.get(), H5T_NATIVE_INT, &version) < 0)
        fail(tmp, "cannot write its attributes");
    }
    std::vector<std::uint64_t> keys, offsets{0};
    std::string values;
    keys.reserve(entries.size() * 2);
    for (const auto& e : entries) {
      keys.push_back(e.key.high);
      keys.push_back(e.key.low);
      values += e.value;
      offsets.push_back(values.size());
    }
    const hsize_t kd[2] = {entries.size(), 2}, od[1] = {offsets.size()}, vd[1] = {values.size()};
    write_dataset(tmp, file.get(), "keys", H5T_NATIVE_UINT64, 2, kd, keys.data());
    write_dataset(tmp, file.get(), "value_offsets", H5T_NATIVE_UINT64, 1, od, offsets.data());
    write_dataset(tmp, file.get(), "values", H5T_NATIVE_UINT8, 1, vd, values.data());
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) fail(tmp, "cannot flush it");
  }
  sync_path(tmp, O_RDONLY);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail(path, "cannot rename " + tmp.string() + " into place: " + ec.message());
  sync_path(path.parent_path().empty() ? "." : path.parent_path(), O_RDONLY | O_DIRECTORY);
}

std::vector<CheckpointEntry> read_checkpoint_segment(const std::filesystem::path& path) {
  quiet_hdf5();
  if (!std::filesystem::exists(path)) fail(path, "does not exist");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    fail(path, "is not an HDF5 file, or is truncated (a checkpoint is written whole; this one was not)");
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) fail(path, "cannot be opened as HDF5 (truncated or corrupt)");
  if (H5Aexists(file.get(), "format") <= 0) fail(path, "is an HDF5 file but not a parsl-mpi checkpoint (no format attribute)");
  {
    H5Id fmt(H5Aopen(file.get(), "format", H5P_DEFAULT), H5Aclose);
    H5Id type(H5Aget_type(fmt.get()), H5Tclose);
    const std::size_t n = H5Tget_size(type.get());
    std::string text(n, '\0');
    H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), n);
    if (n == 0 || n > 256 || H5Aread(fmt.get(), mem.get(), text.data()) < 0 || text.c_str() != std::string(kFormat))
      fail(path, "is an HDF5 file of another format (format attribute is not \"" + std::string(kFormat) + "\")");
  }
  int version = 0;
  {
    H5Id ver(H5Aopen(file.get(), "version", H5P_DEFAULT), H5Aclose);
    if (!ver.ok() || H5Aread(ver.get(), H5T_NATIVE_INT, &version) < 0) fail(path, "has no readable version");
  }
  if (version != kCheckpointVersion)
    fail(path, "has format version " + std::to_string(version) + "; this build reads version " +
                   std::to_string(kCheckpointVersion));
  auto open_set = [&](const char* name) {
    if (H5Lexists(file.get(), name, H5P_DEFAULT) <= 0) fail(path, std::string("lacks the dataset ") + name);
    return H5Dopen2(file.get(), name, H5P_DEFAULT);
  };
  H5Id keys(open_set("keys"), H5Dclose), offs(open_set("value_offsets"), H5Dclose), vals(open_set("values"), H5Dclose);
  const auto kd = dims_of(path, keys.get(), "keys"), od = dims_of(path, offs.get(), "value_offsets"),
             vd = dims_of(path, vals.get(), "values");
  if (kd.size() != 2 || kd[1] != 2 || od.size() != 1 || vd.size() != 1 || od[0] != kd[0] + 1)
    fail(path, "has datasets of inconsistent shapes (keys " + std::to_string(kd.empty() ? 0 : kd[0]) +
                   " entries, value_offsets " + std::to_string(od.empty() ? 0 : od[0]) + ")");
  const std::size_t n = kd[0];
  std::vector<std::uint64_t> key_data(n * 2), offsets(n + 1);
  std::string values(vd[0], '\0');
  if ((n > 0 && H5Dread(keys.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, key_data.data()) < 0) ||
      H5Dread(offs.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, offsets.data()) < 0 ||
      (!values.empty() && H5Dread(vals.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0))
    fail(path, "cannot read its data (corrupt)");
  std::vector<CheckpointEntry> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (offsets[i] > offsets[i + 1] || offsets[i + 1] > values.size())
      fail(path, "entry " + std::to_string(i) + " points outside the values (corrupt offsets)");
    out.push_back(CheckpointEntry{ContentHash{key_data[2 * i], key_data[2 * i + 1]},
                                  values.substr(offsets[i], offsets[i + 1] - offsets[i])});
  }
  return out;
}

}  // namespace parsl::serial
