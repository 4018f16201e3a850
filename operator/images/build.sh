#!/usr/bin/env bash
# Builds (and with --push pushes) fedtune's images from the repository's Dockerfiles, named
#   $REGISTRY/fedtune-trainer:$TAG        trainer-image/Dockerfile (CPU)
#   $REGISTRY/fedtune-trainer-cuda:$TAG   trainer-image/Dockerfile.cuda (CUDA 12.4; Maven downloads the 2.46 GB
#                                         pytorch-native-cu124 jar for it)
#   $REGISTRY/fedtune-operator:$TAG       operator/controller/src/main/docker/Dockerfile.jvm
# REGISTRY defaults to ghcr.io/fedtune and TAG to the Maven project version: the names the chart
# (charts/fedtune-operator/values.yaml) and the operator (fedtune.trainer.image) default to.
#
#   REGISTRY=registry.example.com/team operator/images/build.sh --push            all three, pushed
#   operator/images/build.sh trainer operator                                     two, local only
#
# Options: --push; --skip-maven (use what target/ holds); --base IMAGE (base of the trainer and operator images, any
# image with a Java 17 runtime and /bin/sh); --cuda-base IMAGE (base of the CUDA image); --cuda-torch cpu (CI: builds
# Dockerfile.cuda with the CPU libtorch in the place of the CUDA one, tagged $TAG-cpu-standin, never pushed).
# Environment: CONTAINER_TOOL (podman, else docker), CONTAINER_GLOBAL_OPTS and CONTAINER_BUILD_OPTS (flags for the
# tool and for its build command, e.g. the podman flags this project's machines need: README, "Images"),
# CONTAINER_PUSH_OPTS, MVN (default mvn), MAVEN_ARGS (extra Maven arguments, e.g. -o).
set -euo pipefail
cd "$(dirname "$0")/../.."

push=false skip_maven=false base="" cuda_base="" cuda_torch=cu124 images=()
while [ $# -gt 0 ]; do
  case "$1" in
    --push) push=true ;;
    --skip-maven) skip_maven=true ;;
    --base) base="$2"; shift ;;
    --cuda-base) cuda_base="$2"; shift ;;
    --cuda-torch) cuda_torch="$2"; shift ;;
    trainer|trainer-cuda|operator) images+=("$1") ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#images[@]} -gt 0 ] || images=(trainer trainer-cuda operator)
case "$cuda_torch" in
  cu124) libtorch_dir=trainer-image/target/image-cuda/libtorch ;;
  cpu) libtorch_dir=operator/images/target/cuda-standin/libtorch
       if $push; then echo "build.sh: --cuda-torch cpu builds a stand-in; it is never pushed" >&2; exit 2; fi ;;
  *) echo "build.sh: --cuda-torch is cu124 or cpu" >&2; exit 2 ;;
esac
wants() { local i; for i in "${images[@]}"; do [ "$i" = "$1" ] && return 0; done; return 1; }

registry="${REGISTRY:-ghcr.io/fedtune}"
registry="${registry%/}"
# The project version: the first <version> of the root POM (the parent's own; modelVersion does not match).
version="$(sed -n 's:^  <version>\(.*\)</version>.*:\1:p' pom.xml | head -1)"
tag="${TAG:-$version}"
[ -n "$tag" ] || { echo "build.sh: no version in pom.xml and no TAG" >&2; exit 1; }
pytorch_version="$(sed -n 's:.*<pytorch.version>\(.*\)</pytorch.version>.*:\1:p' pom.xml | head -1)"

tool="${CONTAINER_TOOL:-}"
if [ -z "$tool" ]; then
  if command -v podman >/dev/null; then tool=podman; elif command -v docker >/dev/null; then tool=docker; else
    echo "build.sh: neither podman nor docker is installed" >&2; exit 1
  fi
fi
read -r -a global_opts <<< "${CONTAINER_GLOBAL_OPTS:-}"
read -r -a build_opts <<< "${CONTAINER_BUILD_OPTS:-}"
read -r -a push_opts <<< "${CONTAINER_PUSH_OPTS:-}"
read -r -a maven_args <<< "${MAVEN_ARGS:-}"

if ! $skip_maven; then
  modules=()
  if wants trainer || wants trainer-cuda; then modules+=(trainer-image); fi
  if wants operator; then modules+=(operator/controller); fi
  profile=()
  if wants trainer-cuda; then
    [ "$cuda_torch" = cpu ] || profile=(-Pcuda-image)
  fi
  (IFS=,; set -x; "${MVN:-mvn}" -B -q "${maven_args[@]}" package -DskipTests -pl "${modules[*]}" -am "${profile[@]}")
  if wants trainer-cuda && [ "$cuda_torch" = cpu ]; then
    (set -x; "${MVN:-mvn}" -B -q "${maven_args[@]}" -pl images dependency:unpack@cuda-standin-libtorch)
  fi
fi

built=()
build() { # name dockerfile [build args...]
  local name="$1" file="$2"; shift 2
  local start=$SECONDS
  (set -x; "$tool" "${global_opts[@]}" build "${build_opts[@]}" -f "$file" -t "$name" "$@" .)
  echo "build.sh: built $name in $((SECONDS - start)) s"
  built+=("$name")
}
base_arg=(); [ -z "$base" ] || base_arg=(--build-arg "BASE=$base")
cuda_base_arg=(); [ -z "$cuda_base" ] || cuda_base_arg=(--build-arg "BASE=$cuda_base")

if wants trainer; then
  build "$registry/fedtune-trainer:$tag" trainer-image/Dockerfile "${base_arg[@]}"
fi
if wants trainer-cuda; then
  cuda_tag="$tag"; [ "$cuda_torch" = cu124 ] || cuda_tag="$tag-cpu-standin"
  build "$registry/fedtune-trainer-cuda:$cuda_tag" trainer-image/Dockerfile.cuda "${cuda_base_arg[@]}" \
    --build-arg "TORCH_FLAVOR=$cuda_torch" --build-arg "PYTORCH_VERSION=$pytorch_version" \
    --build-arg "LIBTORCH_DIR=$libtorch_dir"
fi
if wants operator; then
  build "$registry/fedtune-operator:$tag" operator/controller/src/main/docker/Dockerfile.jvm "${base_arg[@]}"
fi

if $push; then
  for name in "${built[@]}"; do
    (set -x; "$tool" "${global_opts[@]}" push "${push_opts[@]}" "$name")
  done
fi
printf '%s\n' "${built[@]}"
