# parsl-run end to end: a failure, a task that never runs because of it, retries, then
# --resume, which must skip what succeeded (counted through side effects) and rerun the rest.
#   -DMPIEXEC=... -DMPIFLAGS="-n;3;..." -DPARSL_RUN=path -DWORK=dir
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(log ${WORK}/ran.log)
file(WRITE ${WORK}/tasks.jsonl
"{\"id\": \"a\", \"command\": \"echo a >> ${log}\"}
{\"id\": \"b\", \"command\": \"echo b >> ${log}\"}
{\"id\": \"flaky\", \"command\": \"echo flaky >> ${log}; test $(grep -c flaky ${log}) -ge 2\", \"retries\": 1}
{\"id\": \"bad\", \"command\": \"echo bad >> ${log}; test -e ${WORK}/fixed || exit 3\"}
{\"id\": \"after-bad\", \"command\": \"echo after-bad >> ${log}\", \"depends\": [\"bad\", \"a\"]}
{\"id\": \"makes\", \"command\": \"echo made > ${WORK}/made.txt\", \"outputs\": [\"${WORK}/made.txt\"]}
{\"id\": \"forgets\", \"command\": \"true\", \"outputs\": [\"${WORK}/fixed\"]}
")
function(run_campaign expect_rc out_var)
  execute_process(COMMAND ${MPIEXEC} ${MPIFLAGS} ${PARSL_RUN} ${ARGN} --progress=lines --parsl-run-dir=${WORK}/runinfo
                          ${WORK}/tasks.jsonl
                  WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 100)
  if(NOT rc STREQUAL expect_rc)
    message(FATAL_ERROR "parsl-run exited ${rc}, expected ${expect_rc}:\n${out}\n${err}")
  endif()
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()
function(count what expected)
  file(STRINGS ${log} lines REGEX "^${what}$")
  list(LENGTH lines n)
  if(NOT n EQUAL expected)
    file(READ ${log} all)
    message(FATAL_ERROR "'${what}' ran ${n} times, expected ${expected}:\n${all}")
  endif()
endfunction()

run_campaign(1 out)
if(NOT out MATCHES "7 tasks: 4 succeeded, 3 failed, 0 skipped" OR NOT out MATCHES "4 results checkpointed in")
  message(FATAL_ERROR "wrong summary after the first run:\n${out}")
endif()
file(GLOB failed_files ${WORK}/runinfo/*/failed_tasks.txt)
file(READ ${failed_files} failed)
if(NOT failed MATCHES "bad\t3\t" OR NOT failed MATCHES "after-bad\t-1\t.*never ran"
   OR NOT failed MATCHES "forgets\t-1\t.*did not produce: ${WORK}/fixed")
  message(FATAL_ERROR "failed_tasks.txt lacks bad (exit 3), after-bad (never ran) or forgets (missing output):\n${failed}")
endif()
count(a 1)
count(flaky 2)
count(bad 1)
count(after-bad 0)

file(WRITE ${WORK}/fixed "")
run_campaign(0 out --resume)
if(NOT out MATCHES "7 tasks: 3 succeeded, 0 failed, 4 skipped" OR NOT out MATCHES "3 results checkpointed in")
  message(FATAL_ERROR "wrong summary after --resume:\n${out}")
endif()
count(a 1)
count(b 1)
count(flaky 2)
count(bad 2)
count(after-bad 1)
message(STATUS "parsl-run: failures reported, dependents held back, --resume reran only what had not succeeded")
