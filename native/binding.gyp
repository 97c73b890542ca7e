{
  "targets": [
    {
      "target_name": "calitune_blas",
      "sources": ["gemm.cc", "optim.cc", "bpr.cc", "rows.cc", "topk.cc", "helper-thread.cc", "adam-stamped.cc", "bpr-draw.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno"],
      "libraries": ["-lopenblas"]
    }
  ]
}
