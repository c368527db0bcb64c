#!/usr/bin/env bash
# parsl-submit against the real one-node Slurm of scripts/slurm-local.sh (scripts/test.sh
# starts it). One case per ctest entry:
#   slurm_check.sh CASE BIN_DIR WORK_DIR MPI_HELLO
# CASE: campaign, dry-run, cancel, scancel, unreachable, walltime, drain, mpi-task-srun,
# mpi-task-mpirun, scaling.
# Each case prints what it measured ("measured: ...") for docs/launch.md.
set -uo pipefail
case_name=$1 bin=$2 work=$3 hello=$4
export PATH="$bin:$PATH"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
now() { date +%s.%N; }
# The value of "key" in job `index` (1-based) of a submission.json, with python3's json.
record() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1/submission.json" "$2"; }

timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP' \
  || fail "Slurm is not running here: start it with scripts/slurm-local.sh start (scripts/test.sh does)"

dir="$work/slurm-$case_name"
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || fail "cannot make $dir"

# tasks N SECONDS: N tasks that log their start and end (id, time, job) and sleep.
tasks() {
  local i
  for i in $(seq 1 "$1"); do
    echo "echo $i \$(date +%s.%N) \$PARSL_SUBMIT_JOB >> starts.txt; sleep $2; echo $i >> ends.txt"
  done > tasks.txt
}

# every task ended at least once; prints how many started more than once
check_campaign() {
  local n=$1 missing
  missing=$(comm -23 <(seq 1 "$n" | sort) <(sort -u ends.txt))
  [ -z "$missing" ] || fail "tasks never finished: $(echo $missing | head -c 200)"
  awk '{print $1}' starts.txt | sort | uniq -d | wc -l
}

case "$case_name" in
campaign)
  tasks 40 0.2
  t0=$(now)
  parsl-submit --site local-slurm --poll 1 -- parsl-run --progress=off tasks.txt > submit.out 2> submit.err \
    || fail "parsl-submit exited $?: $(tail -5 submit.err)"
  [ "$(check_campaign 40)" = 0 ] || fail "a task ran twice"
  sub=$(ls -d submit/*/ | head -1)
  [ "$(record "$sub" "r['outcome']")" = done ] || fail "outcome is not done"
  [ "$(record "$sub" "r['jobs'][0]['state']")" = COMPLETED ] || fail "job not COMPLETED"
  grep -q 'RUNNING' submit.err || fail "no live status line: $(cat submit.err)"
  first=$(sort -k2 -n starts.txt | head -1 | awk '{print $2}')
  echo "measured: parsl-submit to first task running: $(echo "$first - $t0" | bc) s"
  ;;
dry-run)
  before=$(squeue -h -t all | wc -l)
  parsl-submit --site local-slurm --nodes 1 --ranks-per-node 3 --dry-run -- parsl-run tasks.txt > script.txt 2> dry.err \
    || fail "dry run exited $?"
  grep -q '^#SBATCH --ntasks-per-node=3$' script.txt || fail "no #SBATCH line: $(cat script.txt)"
  grep -q '^srun --nodes=1 --ntasks=3 ' script.txt || fail "no srun line"
  grep -q 'sbatch --parsable' dry.err || fail "no submit command shown"
  [ ! -e submit ] || fail "a dry run wrote a run folder"
  sleep 1
  [ "$(squeue -h -t all | wc -l)" = "$before" ] || fail "a dry run submitted a job"
  ;;
cancel)
  tasks 30 30
  sub=$(parsl-submit --site local-slurm --detach -- parsl-run --progress=off tasks.txt 2> submit.err)
  [ -d "$sub" ] || fail "no run folder from --detach: $sub $(cat submit.err)"
  # Cancel once all 3 workers (4 ranks per node) run a task, not while one is starting its
  # first: Slurm's proctrack/linuxproc, which this one-node Slurm uses, signals the processes
  # it found in one scan of /proc, and a task spawned between that scan and its worker's
  # SIGTERM is orphaned before the worker's watchdog knows it (sites use proctrack/cgroup,
  # which kills the whole job cgroup). docs/launch.md says so.
  for _ in $(seq 1 60); do [ "$(cat starts.txt 2>/dev/null | wc -l)" -ge 3 ] && break; sleep 0.5; done
  [ "$(wc -l < starts.txt)" -ge 3 ] || fail "3 tasks did not start within 30 s: $(cat starts.txt)"
  # the job's processes: every one whose environment names this submission
  job_procs() { grep -l "PARSL_SUBMIT_DIR=$sub" /proc/[0-9]*/environ 2>/dev/null | grep -v "/proc/$$/" | wc -l; }
  # what they are, for the failure message: pid, parent, state, command
  job_ps() {
    grep -l "PARSL_SUBMIT_DIR=$sub" /proc/[0-9]*/environ 2>/dev/null | grep -v "/proc/$$/" \
      | sed 's,/proc/\([0-9]*\)/environ,\1,' | xargs -r ps -o pid=,ppid=,stat=,etimes=,args= -p
  }
  [ "$(job_procs)" -gt 0 ] || fail "cannot see the job's processes"
  t0=$(now)
  parsl-submit cancel "$sub" > cancel.out 2>&1 || fail "cancel exited $?: $(cat cancel.out)"
  for _ in $(seq 1 100); do [ "$(job_procs)" = 0 ] && break; sleep 0.1; done
  left=$(job_procs)
  [ "$left" = 0 ] || fail "$left processes of the job still run 10 s after cancel: $(job_ps)"
  echo "measured: every task process gone $(echo "$(now) - $t0" | bc) s after parsl-submit cancel"
  for _ in $(seq 1 20); do
    parsl-submit status "$sub" > status.out 2>&1
    grep -q 'CANCELLED' status.out && break
    sleep 0.5
  done
  grep -q "$sub: cancelled" status.out || fail "status does not say cancelled: $(cat status.out)"
  grep -q 'CANCELLED' status.out || fail "the job is not CANCELLED: $(cat status.out)"
  ;;
scancel)
  # scancel by hand while parsl-submit follows: no task process is left, and the follower
  # ends the campaign as cancelled (exit 4) instead of resubmitting.
  tasks 30 30
  parsl-submit --site local-slurm --max-jobs 3 -- parsl-run --progress=off tasks.txt > submit.out 2> submit.err &
  follower=$!
  for _ in $(seq 1 60); do [ -s starts.txt ] && break; sleep 0.5; done
  [ -s starts.txt ] || fail "no task started within 30 s"
  sub=$(ls -d "$dir"/submit/*/ | head -1); sub=${sub%/}
  id=$(record "$sub" "r['jobs'][0]['id']")
  job_procs() { grep -l "PARSL_SUBMIT_DIR=$sub" /proc/[0-9]*/environ 2>/dev/null | grep -v "/proc/$$/" | wc -l; }
  t0=$(now)
  scancel "$id" || fail "scancel $id failed"
  for _ in $(seq 1 100); do [ "$(job_procs)" = 0 ] && break; sleep 0.1; done
  [ "$(job_procs)" = 0 ] || fail "processes of job $id still run 10 s after scancel"
  echo "measured: every task process gone $(echo "$(now) - $t0" | bc) s after scancel"
  wait $follower; rc=$?
  [ "$rc" = 4 ] || fail "the follower exited $rc, not 4 (cancelled): $(tail -3 submit.err)"
  grep -q 'cancelled outside parsl-submit' submit.out || fail "no word of the cancel: $(cat submit.out)"
  [ "$(record "$sub" "len(r['jobs'])")" = 1 ] || fail "a cancelled campaign was resubmitted"
  ;;
unreachable)
  # A controller that does not answer: every scheduler command is cut off at --cmd-timeout
  # and the error names it (squeue alone takes 18 s to fail, sinfo hangs).
  sed 's/^SlurmctldPort=.*/SlurmctldPort=6899/; s/^SlurmdPort=.*/SlurmdPort=6898/' /etc/slurm/slurm.conf > dead.conf
  t0=$(now)
  SLURM_CONF=$dir/dead.conf parsl-submit --site local-slurm --cmd-timeout 3 -- true > submit.out 2> submit.err
  rc=$?
  took=$(echo "$(now) - $t0" | bc)
  [ "$rc" = 2 ] || fail "parsl-submit exited $rc, not 2: $(cat submit.err)"
  grep -q "sbatch" submit.err || fail "the error does not name sbatch: $(cat submit.err)"
  grep -Eq "did not answer within 3 s|Unable to contact" submit.err || fail "no reason given: $(cat submit.err)"
  [ "$(echo "$took < 10" | bc)" = 1 ] || fail "took $took s with --cmd-timeout 3"
  sub=$(ls -d submit/*/ | head -1)
  [ "$(record "$sub" "r['outcome']")" = failed ] || fail "the record does not say the submission failed"
  echo "measured: an unreachable controller is an error after $took s (--cmd-timeout 3)"
  ;;
walltime|drain)
  # 150 tasks of 2 s on 3 workers: about 100 s of work, in jobs of 1 minute (Slurm's least).
  tasks 150 2
  # walltime: a job that dies without warning (as at a node failure, or a walltime the
  # runtime was not told): parsl-run does not see the end time, and Slurm kills it.
  printf '#!/bin/bash\nunset PARSL_JOB_END_TIME\nexec parsl-run "$@"\n' > blind-run.sh && chmod +x blind-run.sh
  if [ "$case_name" = walltime ]; then opts=(--max-jobs 4 --resume-args=--resume -- ./blind-run.sh)
  else opts=(--drain 10 --queue-ahead --max-jobs 4 -- parsl-run); fi
  # Watch the queue for the queued-ahead job's dependency while the first job runs.
  ( for _ in $(seq 1 400); do scontrol show job -o 2>/dev/null | grep -o 'JobId=[0-9]* .*Dependency=afterany:[0-9]*' \
      | sed 's/ .*Dependency=/ /' >> deps.txt; sleep 0.5; done ) &
  watcher=$!
  parsl-submit --site local-slurm --walltime 1 --poll 1 "${opts[@]}" --progress=off tasks.txt \
    > submit.out 2> submit.err
  rc=$?
  kill $watcher 2>/dev/null; wait $watcher 2>/dev/null
  [ "$rc" = 0 ] || fail "parsl-submit exited $rc: $(tail -5 submit.err)"
  sub=$(ls -d submit/*/ | head -1)
  jobs=$(record "$sub" "len(r['jobs'])")
  [ "$jobs" -ge 2 ] || fail "the campaign finished in one job: nothing was tested"
  first_state=$(record "$sub" "r['jobs'][0]['state']")
  first_exit=$(record "$sub" "r['jobs'][0]['exit_code']")
  reruns=$(check_campaign 150)
  # the first task of job 2 after job 1 ended
  end1=$(record "$sub" "r['jobs'][0]['ended']")
  start2=$(awk '$3 == 2 {print $2}' starts.txt | sort -n | head -1)
  if [ "$case_name" = walltime ]; then
    [ "$first_state" = TIMEOUT ] || fail "job 1 is $first_state, not TIMEOUT"
    [ "$reruns" -le 6 ] || fail "$reruns tasks ran twice: more than were in flight (3 workers)"
  else
    [ "$first_exit" = 75 ] || fail "job 1 did not drain (exit $first_exit, $first_state)"
    [ "$reruns" = 0 ] || fail "$reruns tasks ran twice although the job drained"
    after=$(record "$sub" "r['jobs'][1]['after']")
    id1=$(record "$sub" "r['jobs'][0]['id']")
    [ "$after" = "$id1" ] || fail "job 2 was not queued behind job 1 (after '$after')"
    grep -q "afterany:$id1" deps.txt || fail "Slurm never showed job 2 waiting on afterany:$id1"
  fi
  echo "measured: $case_name: $jobs jobs; job 1 $first_state (exit $first_exit); $reruns tasks re-run" \
       "($((reruns * 2)) task-seconds); job 1 seen ended to job 2's first task: $(echo "$start2 - $end1" | bc) s"
  ;;
mpi-task-srun|mpi-task-mpirun)
  launcher=${case_name#mpi-task-}
  {
    echo '{"id": "before", "command": "sleep 1; echo before"}'
    echo "{\"id\": \"singleton\", \"command\": \"$hello 1\"}"                 # MPI_Init with no launcher
    echo "{\"id\": \"mpirun\", \"command\": \"mpirun -np 2 $hello 2\"}"        # Open MPI's launcher, in the task
    echo "{\"id\": \"srun\", \"command\": \"srun --overlap -n 2 $hello 2\"}"   # a step beside the pilot's
    # two ranks reserved by the pilot, started with the prefix it gives
    echo "{\"id\": \"prefix\", \"ranks\": 2, \"command\": \"echo \$PARSL_MPI_PREFIX; \$PARSL_MPI_PREFIX $hello 2\"}"
    for i in 1 2 3 4; do echo "{\"id\": \"after-$i\", \"command\": \"sleep 2; echo after $i\"}"; done
  } > tasks.jsonl
  parsl-submit --site local-slurm --launcher "$launcher" --poll 1 -- parsl-run --progress=off tasks.jsonl \
    > submit.out 2> submit.err || fail "parsl-submit exited $?: $(tail -5 submit.err; cat submit/*/job-1.err | tail -20)"
  sub=$(ls -d submit/*/ | head -1)
  grep -q '9 tasks: 9 succeeded, 0 failed' "$sub/job-1.out" || fail "not every task succeeded: $(cat "$sub/job-1.out")"
  grep -h 'mpi_hello: 2 ranks' runinfo/*/task_logs/*/*.stdout | wc -l | grep -qx 3 || fail "the 2-rank programs did not run"
  want_prefix="srun --overlap"; [ "$launcher" = mpirun ] && want_prefix="mpirun -np 2 --host"
  grep -qh "^$want_prefix" runinfo/*/task_logs/*/*.stdout \
    || fail "the reserved task's prefix is not '$want_prefix...'"
  ;;
scaling)
  # parsl-scaling --nodes: each size and repeat a batch job through parsl-submit, timed by the
  # job's own running time (the queue wait apart), in runs.csv and summary.csv. One node here.
  tasks 8 0.3
  parsl-scaling --nodes=1 --repeats=2 --submit-args="--site local-slurm --poll 1" --out=study -- \
    parsl-run --progress=off tasks.txt > scaling.out 2>&1 || fail "parsl-scaling exited $?: $(tail -5 scaling.out)"
  [ "$(wc -l < study/runs.csv)" -eq 3 ] || fail "runs.csv: $(cat study/runs.csv)"
  head -1 study/runs.csv | grep -q '^nodes,repeat,seconds,wall_seconds,exit$' || fail "runs.csv header: $(head -1 study/runs.csv)"
  awk -F, 'NR > 1 && ($5 != 0 || $3 <= 0 || $4 < $3) { bad = 1 } END { exit bad }' study/runs.csv \
    || fail "a run failed, or its job time is not positive and within its wall time: $(cat study/runs.csv)"
  sed -n 2p study/summary.csv | grep -q '^1,2,' || fail "summary.csv: $(cat study/summary.csv)"
  [ "$(ls -d study/submit-1-*/*/ | wc -l)" -eq 2 ] || fail "not one submission per run"
  [ "$(sort -u ends.txt | wc -l)" -eq 8 ] || fail "the tasks did not all run"
  grep -q 'nodes 1, run 2/2' scaling.out || fail "no progress lines: $(cat scaling.out)"
  # Both kinds of size at once, or --nodes without --submit-args: a clear error (exit 2).
  parsl-scaling --nodes=1 --workers=1 --submit-args=x -- true > bad.out 2>&1; [ $? -eq 2 ] || fail "mixed sizes accepted"
  grep -q 'cannot be mixed' bad.out || fail "mixed sizes: $(cat bad.out)"
  parsl-scaling --nodes=1 -- true > bad.out 2>&1; [ $? -eq 2 ] || fail "--nodes without --submit-args accepted"
  echo "measured: job seconds and wall seconds of each run: $(tail -n +2 study/runs.csv | cut -d, -f3,4 | tr '\n' ' ')"
  ;;
*) fail "unknown case" ;;
esac
echo "ok: $case_name"
