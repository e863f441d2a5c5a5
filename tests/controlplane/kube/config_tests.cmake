# Tests of cdns_kube_config: kubeconfig / master URL / in-cluster loading and bearer token files.
# include()d by tests/controlplane/kube/CMakeLists.txt.
add_executable(kube_config_test
  ${CMAKE_CURRENT_LIST_DIR}/kube_config_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/bearer_token_test.cc
)
target_link_libraries(kube_config_test PRIVATE cdns_kube_config GTest::gmock GTest::gtest_main)
gtest_discover_tests(kube_config_test TEST_PREFIX "kube_config.")
