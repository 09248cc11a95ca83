# The generated stubs of proto/caviar/v1 (study_pb2, trial_pb2, service_pb2,
# service_pb2_grpc) land next to this file at build time (python/CMakeLists.txt).
