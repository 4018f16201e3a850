package io.fedtune.operator.apiserver;

import jakarta.inject.Qualifier;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The tests' own KubernetesClient: an administrator of the strict test API server, unlike the application's client,
 * which the operator uses and which the test profile identifies as the operator's service account.
 */
@Qualifier
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER, ElementType.TYPE})
public @interface Admin {
}
