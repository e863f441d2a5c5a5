# cdns_kube_client: the Kubernetes API client. libcurl HTTP client (http_client), the line
# framer and watch event decoding (line_framer, watch_event, kube_json), list page decoding
# (list_page), backoff, the list+watch informer and the two-informer KubeSource.
# Included (OPTIONAL) by controlplane/kube/CMakeLists.txt; needs cdns_kube_config (config.cmake)
# for KubeConnection's BearerTokenSource.
add_library(cdns_kube_client STATIC
  ${CMAKE_CURRENT_LIST_DIR}/backoff.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/informer.cc
  ${CMAKE_CURRENT_LIST_DIR}/kube_json.cc
  ${CMAKE_CURRENT_LIST_DIR}/kube_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/line_framer.cc
  ${CMAKE_CURRENT_LIST_DIR}/list_page.cc
  ${CMAKE_CURRENT_LIST_DIR}/watch_event.cc
)
target_link_libraries(cdns_kube_client PUBLIC
  cdns_kube_config cdns_controlplane_json CURL::libcurl simdjson::simdjson
  absl::status absl::statusor absl::strings absl::synchronization absl::time
  absl::function_ref)
find_package(Threads REQUIRED)
target_link_libraries(cdns_kube_client PUBLIC Threads::Threads)
