# SM_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer that stop at the first report.
function(sm_apply_sanitizers target)
  if(SM_SANITIZE AND NOT EMSCRIPTEN)
    target_compile_options(${target} PUBLIC -fsanitize=address,undefined
                           -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined -fno-sanitize-recover=all)
  endif()
endfunction()
