# kube_client_test: the Kubernetes API client (controlplane/kube/client.cmake): line framer, watch
# event and list page decoding on recorded streams (tests/testdata/{watch,list}), backoff, the
# libcurl HTTP client and the informers against the fake API server (tests/support/fake_kube_api).
# Included (OPTIONAL) by tests/controlplane/kube/CMakeLists.txt.
add_executable(kube_client_test
  ${CMAKE_CURRENT_LIST_DIR}/client_backoff_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/client_kube_source_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/client_list_page_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_client_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/informer_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/line_framer_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/watch_event_test.cc
)
target_link_libraries(kube_client_test PRIVATE cdns_kube_client cdns_fake_kube_api
  GTest::gmock GTest::gtest_main)
target_compile_definitions(kube_client_test PRIVATE
  CDNS_WATCH_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/tests/testdata/watch"
  CDNS_LIST_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/tests/testdata/list"
  CDNS_TLS_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/tests/testdata/tls")
# Prefixed so `ctest -R kube_client` selects these (gtest names are Suite.Test).
gtest_discover_tests(kube_client_test TEST_PREFIX "kube_client." DISCOVERY_TIMEOUT 30)
