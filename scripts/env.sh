# Sourced by scripts: export the embedded defaults of bot/defaults.env for every variable not set yet.
while IFS='=' read -r key value; do
  if [[ -n "$key" && "$key" != \#* && -z "${!key+set}" ]]; then
    export "$key=$value"
  fi
done < "$(dirname "${BASH_SOURCE[0]}")/../bot/defaults.env"
