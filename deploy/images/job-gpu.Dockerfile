# syntax=docker/dockerfile:1
# The streamlearn job image, GPU variant: as job.Dockerfile, but PyTorch is the CUDA 12.8 build of
# libtorch 2.7.1, taken from a second build context (it is not on Maven Central; fetch it once
# with fetch-libtorch-cu128.sh). pytorch-jni 2.7.1-0.35.1 in lib/ already holds the cu128 JNI
# library. Nothing is downloaded during the build:
#
#   docker build -f deploy/images/job-gpu.Dockerfile \
#     --build-context libtorch=/path/to/libtorch-2.7.1-cu128 \
#     -t streamlearn/flink-gpu:0.1.0 stream-jobs/target
ARG FLINK_IMAGE=flink:2.2.1-java17

FROM ${FLINK_IMAGE} AS lib
COPY flink-lib/ /staging/lib/
# The CPU build of libtorch is dead weight next to the CUDA one.
RUN rm /staging/lib/pytorch-native-cpu-*.jar

FROM ${FLINK_IMAGE}
COPY --from=lib --chown=flink:flink /staging/lib/ /opt/flink/lib/
COPY --chown=flink:flink streamlearn-job.jar /opt/flink/usrlib/streamlearn-job.jar
COPY --from=libtorch --chown=flink:flink lib/ /opt/libtorch/lib/

RUN mkdir -p /opt/flink/plugins/s3-fs-presto \
 && cp /opt/flink/opt/flink-s3-fs-presto-*.jar /opt/flink/plugins/s3-fs-presto/ \
 && test -f /opt/libtorch/lib/libtorch.so \
 && test -f /opt/flink/plugins/external-resource-gpu/nvidia-gpu-discovery.sh

# DJL loads libtorch from PYTORCH_LIBRARY_PATH and takes the JNI library of this flavor and
# version from pytorch-jni. CUDA numbers GPUs as nvidia-smi (and so Flink's discovery script)
# does. The NVIDIA container runtime mounts the driver and nvidia-smi (compute, utility).
ENV DJL_OFFLINE=true \
    DJL_CACHE_DIR=/tmp/djl \
    OMP_NUM_THREADS=1 \
    PYTORCH_LIBRARY_PATH=/opt/libtorch/lib \
    PYTORCH_FLAVOR=cu128 \
    PYTORCH_VERSION=2.7.1 \
    CUDA_DEVICE_ORDER=PCI_BUS_ID \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
