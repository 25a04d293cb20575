# syntax=docker/dockerfile:1
# The streamlearn job image, CPU variant: Flink + DJL (with the CPU PyTorch library) in lib/,
# the job jar in usrlib/. Built offline from what `mvn -B -DskipTests package` leaves in
# stream-jobs/target (the build context); see deploy/README.md.
#
#   docker build -f deploy/images/job.Dockerfile -t streamlearn/flink:0.1.0 stream-jobs/target
ARG FLINK_IMAGE=flink:2.2.1-java17
FROM ${FLINK_IMAGE}

# DJL and PyTorch load once per TaskManager from lib/: a native library cannot be loaded by a
# second classloader, and every job (and every restart) gets a new user classloader.
COPY --chown=flink:flink flink-lib/ /opt/flink/lib/
COPY --chown=flink:flink streamlearn-job.jar /opt/flink/usrlib/streamlearn-job.jar

# Checkpoints, savepoints and HA metadata on S3: the plugin ships in the image's opt/.
RUN mkdir -p /opt/flink/plugins/s3-fs-presto \
 && cp /opt/flink/opt/flink-s3-fs-presto-*.jar /opt/flink/plugins/s3-fs-presto/

# DJL never downloads; it unpacks the native library from lib/ into a writable cache.
ENV DJL_OFFLINE=true \
    DJL_CACHE_DIR=/tmp/djl \
    OMP_NUM_THREADS=1
