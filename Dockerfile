# One image for the reference app and for Locust (master and workers): compose.yaml runs it.
# The app is served the way FastAPI's docs teach, with `fastapi run`.
FROM python:3.11-slim
WORKDIR /srv
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY . .
RUN pip install .
EXPOSE 8000
CMD ["fastapi", "run", "reference_app/main.py", "--port", "8000"]
