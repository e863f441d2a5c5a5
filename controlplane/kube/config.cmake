# cdns_kube_config: KubeConnection loaders (--kube-master-url, kubeconfig via yaml-cpp,
# in-cluster service account) and BearerTokenSource (token files re-read when they change).
# include()d by controlplane/kube/CMakeLists.txt.
add_library(cdns_kube_config STATIC
  ${CMAKE_CURRENT_LIST_DIR}/kube_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/bearer_token.cc
)
target_link_libraries(cdns_kube_config PUBLIC
  absl::status absl::statusor absl::strings absl::synchronization absl::time yaml-cpp)
