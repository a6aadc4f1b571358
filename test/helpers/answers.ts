// Model answers for scripts in tests: a ```yaml Job manifest, indented to sit under `text: |`.

export const TEST_IMAGE = 'ghcr.io/example/lammps:1';

/** A Job running `sh -c <command>`; `extra` lines go under the pod spec (e.g. volumes). */
export const jobManifestAnswer = (command: string, extra = '', image = TEST_IMAGE) => `
      \`\`\`yaml
      apiVersion: batch/v1
      kind: Job
      metadata:
        name: lammps
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: lammps
                image: ${image}
                command: ["sh", "-c", "${command}"]
${extra}
      \`\`\``;
