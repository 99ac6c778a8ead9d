package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// exampleSpec is a small sweep the examples run in place of theirs.
const exampleSpec = `name: example
base: healthy-cluster
trials: 4
seed: 5
set: [run.duration=5s]
grid:
  acks: ["1", "all"]
faults:
  crash: {per_hour: 600, for: 2s}
`

// runShards runs command once per shard index through /bin/sh, with
// acksim on PATH and env naming the index, then merges the shards and
// requires the files of a single run.
func runShards(t *testing.T, dir, command, env string, shards int, specPath, resultsPrefix string) {
	t.Helper()
	path := filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	for i := 0; i < shards; i++ {
		c := exec.Command("/bin/sh", "-c", command)
		c.Dir = dir
		c.Env = append(os.Environ(), "PATH="+path, env+"="+itoa(i))
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, out)
		}
	}
	var dirs []string
	for i := 0; i < shards; i++ {
		dirs = append(dirs, resultsPrefix+itoa(i))
	}
	if _, stderr, code := acksim(t, dir, append([]string{"merge", "--out", "merged"}, dirs...)...); code != 0 {
		t.Fatalf("merge: exit %d %s", code, stderr)
	}
	if _, stderr, code := acksim(t, dir, "sweep", specPath, "--out", "single", "--quiet"); code != 0 {
		t.Fatalf("single run: exit %d %s", code, stderr)
	}
	for _, f := range []string{"summary.csv", "summary.json", "trials.jsonl", "report.md"} {
		a, _ := os.ReadFile(filepath.Join(dir, "merged", f))
		b, _ := os.ReadFile(filepath.Join(dir, "single", f))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s: the merged shards differ from a single run", f)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func strconvAtoi(s string) (int, error) { return strconv.Atoi(strings.TrimSpace(s)) }

// The Kubernetes example runs as written: the Job's command, once per
// completion index with JOB_COMPLETION_INDEX set, merges into a single run's
// results (issue 17), so the example cannot rot.
func TestKubernetesExample(t *testing.T) {
	data, err := os.ReadFile("../../docs/kubernetes-sweep.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Kind string `yaml:"kind"`
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Template       struct {
				Spec struct {
					Containers []struct {
						Command []string `yaml:"command"`
						Args    []string `yaml:"args"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &job); err != nil {
		t.Fatal(err)
	}
	c := job.Spec.Template.Spec.Containers
	if job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || len(c) != 1 || len(c[0].Args) != 1 || strings.Join(c[0].Command, " ") != "/bin/sh -c" {
		t.Fatalf("not an Indexed Job running one shell command: %+v", job)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "spec"), 0o755)
	os.WriteFile(filepath.Join(dir, "spec", "sweep.yaml"), []byte(exampleSpec), 0o644)
	// The Job's paths, made relative to the test's directory.
	command := strings.NewReplacer("/spec/", "spec/", "/results/", "results/").Replace(c[0].Args[0])
	runShards(t, dir, command, "JOB_COMPLETION_INDEX", job.Spec.Completions, "spec/sweep.yaml", "results/shard-")
}

// The Slurm example runs as written, once per array task.
func TestSlurmExample(t *testing.T) {
	data, err := os.ReadFile("../../docs/slurm-sweep.sh")
	if err != nil {
		t.Fatal(err)
	}
	var command string
	shards := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "acksim ") {
			command = l
		}
		if a, ok := strings.CutPrefix(l, "#SBATCH --array=0-"); ok {
			n, _ := strconvAtoi(a)
			shards = n + 1
		}
	}
	if command == "" || shards == 0 {
		t.Fatalf("no acksim command or array in docs/slurm-sweep.sh")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "sweep.yaml"), []byte(exampleSpec), 0o644)
	runShards(t, dir, command, "SLURM_ARRAY_TASK_ID", shards, "sweep.yaml", "results/shard-")
}

// The Dockerfile's build command builds a static binary (a full rebuild
// with -trimpath, about 30 s: ACKSIM_LONG=1 runs it).
func TestDockerfileBuild(t *testing.T) {
	if os.Getenv("ACKSIM_LONG") == "" {
		t.Skip("rebuilds acksim from scratch; ACKSIM_LONG=1 runs it")
	}
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var build string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "RUN CGO_ENABLED=0 go build") {
			build = strings.TrimPrefix(l, "RUN ")
		}
	}
	if build == "" {
		t.Fatal("no static go build in the Dockerfile")
	}
	out := t.TempDir()
	build = strings.Replace(build, "/out/acksim", filepath.Join(out, "acksim"), 1)
	c := exec.Command("/bin/sh", "-c", build)
	c.Dir = "../.."
	if msg, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, msg)
	}
	if msg, err := exec.Command(filepath.Join(out, "acksim"), "--version").CombinedOutput(); err != nil || !strings.HasPrefix(string(msg), "acksim ") {
		t.Errorf("the built binary: %v %s", err, msg)
	}
}
