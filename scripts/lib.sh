# Shared by the scripts in this folder: install what is missing, configure, build.
# Sourced, not run. Idempotent: a second run installs nothing and rebuilds only what changed.

PARSL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# PARSL_MPI=openmpi (default) or mpich: which MPI to build and test against. Each gets its
# own build folder, so both can live side by side. Wrappers and launcher are named
# explicitly: with both installed, Debian's plain `mpicxx` and `mpirun` may point to either.
PARSL_MPI=${PARSL_MPI:-openmpi}
case "$PARSL_MPI" in
  openmpi) PARSL_BUILD_DIR=${PARSL_BUILD_DIR:-$PARSL_ROOT/build}
           PARSL_MPI_PACKAGES=(openmpi-bin libopenmpi-dev liblammps-dev)
           PARSL_MPIRUN=/usr/bin/mpirun.openmpi
           PARSL_MPI_CMAKE=(-DMPI_C_COMPILER=/usr/bin/mpicc.openmpi -DMPI_CXX_COMPILER=/usr/bin/mpicxx.openmpi
                            -DMPIEXEC_EXECUTABLE=$PARSL_MPIRUN) ;;
  mpich)   PARSL_BUILD_DIR=${PARSL_BUILD_DIR:-$PARSL_ROOT/build-mpich}
           PARSL_MPI_PACKAGES=(mpich libmpich-dev)
           PARSL_MPIRUN=/usr/bin/mpiexec.mpich
           PARSL_MPI_CMAKE=(-DMPI_C_COMPILER=/usr/bin/mpicc.mpich -DMPI_CXX_COMPILER=/usr/bin/mpicxx.mpich
                            -DMPIEXEC_EXECUTABLE=$PARSL_MPIRUN) ;;
  *) echo "parsl: PARSL_MPI must be openmpi or mpich, not '$PARSL_MPI'" >&2; exit 2 ;;
esac

# Debian packages the build needs, and why:
#   build-essential cmake ninja-build  compiler and build tools
#   libcereal-dev    serialization of task arguments, results and memo entries
#   libxxhash-dev    XXH3-128 content hashes for memo keys
#   libgtest-dev     the test suite
#   libbenchmark-dev the micro-benchmarks
#   openmpi-bin libopenmpi-dev  MPI: the executor's transport, mpirun for the demo and tests
#                               (mpich libmpich-dev instead with PARSL_MPI=mpich)
#   libhwloc-dev pkg-config     pinning workers to cores (found through pkg-config)
#   nlohmann-json3-dev          parsl-run reads JSON-lines task files
#   libcurl4-openssl-dev        staging remote inputs and outputs (http, https, ftp)
#   python3-pyftpdlib           the FTP server the staging tests start on loopback
#   libhdf5-dev hdf5-tools      checkpoint segment files (serial HDF5), h5dump
#   procps           pgrep/pkill: the kill -9 tests find and kill every rank of a job
#   slurm-wlm munge  a real one-node Slurm (scripts/slurm-local.sh) for parsl-submit's tests
#   bc               the Slurm tests' arithmetic on timestamps
#   libsqlite3-dev   the monitoring database (runinfo/NNN/monitoring.db)
#   libjs-chart.js   Chart.js, which parsl-report copies into its self-contained pages
#   chromium         headless, the test that opens parsl-report's page and checks what it drew
#   time             /usr/bin/time: benchmarks/monitoring.sh's peak memory of a rank
#   liblammps-dev    LAMMPS's C library (built with Open MPI; not with PARSL_MPI=mpich): the
#                    embedding example apps/examples/04_lammps_analysis and its test
PARSL_PACKAGES=(build-essential cmake ninja-build pkg-config libcereal-dev libxxhash-dev libgtest-dev
                libbenchmark-dev libhwloc-dev nlohmann-json3-dev libcurl4-openssl-dev python3-pyftpdlib
                libhdf5-dev hdf5-tools procps slurm-wlm munge bc libsqlite3-dev libjs-chart.js chromium time
                "${PARSL_MPI_PACKAGES[@]}")

# mpirun as root (CI, containers) needs Open MPI's explicit consent; the tests oversubscribe
# the 2-core machines on purpose.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

parsl_install_packages() {
  local missing=() p
  for p in "${PARSL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "parsl: all ${#PARSL_PACKAGES[@]} Debian packages present"
    return 0
  fi
  echo "parsl: installing ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "parsl: need root (or sudo) to install: ${missing[*]}" >&2
      return 1
    fi
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

parsl_build() {
  cmake -S "$PARSL_ROOT" -B "$PARSL_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${PARSL_MPI_CMAKE[@]}" "$@" >/dev/null
  cmake --build "$PARSL_BUILD_DIR" -j "${PARSL_JOBS:-2}"
}
