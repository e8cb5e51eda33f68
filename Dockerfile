# sipha: one image for `sipha operator` and `sipha agent`.
# Build: make image   (docker build -t sipha:0.1.0 .)

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml ./
COPY operator/pom.xml operator/
COPY operator/demo/pom.xml operator/demo/
RUN mvn -B -ntp -q -pl operator dependency:go-offline
COPY operator/src/ operator/src/
COPY crds/ crds/
RUN mvn -B -ntp -q -pl operator -Dmaven.test.skip=true package

FROM eclipse-temurin:17-jre
# the agent's default VIP scripts use ip(8) and arping(8)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iproute2 iputils-arping \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin sipha
COPY --from=build /src/operator/target/sipha.jar /app/sipha.jar
COPY helm/sipha/files/ /etc/sipha/scripts/
# the operator runs as this user; the agent's DaemonSet runs as root with NET_ADMIN and NET_RAW only
USER 10001
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/sipha.jar"]
CMD ["--help"]
