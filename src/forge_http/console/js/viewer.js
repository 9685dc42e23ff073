// The 3D view: the job's GLB, orbiting, Z up as in OpenSCAD; a highlighted part is its
// own STL drawn in the accent colour over a faded whole.

import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { STLLoader } from "three/addons/loaders/STLLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

export const BACKGROUND = 0xf3f4f6;
const MODEL = 0x3d6fb6;
const HIGHLIGHT = 0xff7a00;
const TURN = Math.PI / 24;

export class Viewer {
  constructor(canvas) {
    this.canvas = canvas;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(BACKGROUND);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x667788, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(1, -1.5, 2);
    this.scene.add(sun);
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.1, 10000);
    this.camera.up.set(0, 0, 1);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enableDamping = true;
    this.controls.autoRotate = !matchMedia("(prefers-reduced-motion: reduce)").matches;
    this.controls.addEventListener("start", () => { this.controls.autoRotate = false; });
    this.model = null;
    this.part = null;
    canvas.addEventListener("keydown", (event) => this.key(event));
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
    this.resize();
    this.renderer.setAnimationLoop(() => this.draw());
  }

  resize() {
    const { clientWidth: width, clientHeight: height } = this.canvas.parentElement;
    if (!width || !height) return;
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
  }

  draw() {
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
  }

  // Show a GLB (bytes); resolves once it is in the scene and framed.
  async show(glb) {
    const gltf = await new GLTFLoader().parseAsync(glb, "");
    this.clear();
    this.model = gltf.scene;
    this.model.traverse((node) => {
      if (node.isMesh) node.material = new THREE.MeshStandardMaterial({ color: MODEL, metalness: 0.1, roughness: 0.6 });
    });
    this.scene.add(this.model);
    this.frame();
  }

  // Draw one part (STL bytes) in the accent colour and fade the rest; null removes it.
  highlight(stl) {
    if (this.part) {
      this.scene.remove(this.part);
      this.part.geometry.dispose();
      this.part = null;
    }
    this.fade(stl !== null);
    if (stl === null) return;
    const geometry = new STLLoader().parse(stl);
    this.part = new THREE.Mesh(geometry, new THREE.MeshStandardMaterial({ color: HIGHLIGHT, roughness: 0.5 }));
    this.scene.add(this.part);
  }

  fade(faded) {
    this.model?.traverse((node) => {
      if (!node.isMesh) return;
      node.material.transparent = faded;
      node.material.opacity = faded ? 0.18 : 1;
      node.material.depthWrite = !faded;
      node.material.needsUpdate = true;
    });
  }

  clear() {
    this.highlight(null);
    if (this.model) this.scene.remove(this.model);
    this.model = null;
  }

  frame() {
    const box = new THREE.Box3().setFromObject(this.model);
    const size = box.getSize(new THREE.Vector3());
    const centre = box.getCenter(new THREE.Vector3());
    const radius = Math.max(size.length() / 2, 1);
    const distance = radius / Math.sin(THREE.MathUtils.degToRad(this.camera.fov / 2));
    this.camera.near = distance / 100;
    this.camera.far = distance * 100;
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(centre);
    this.camera.position.copy(centre).add(new THREE.Vector3(0.6, -0.9, 0.7).normalize().multiplyScalar(distance));
    this.controls.update();
    this.home = { position: this.camera.position.clone(), target: centre.clone() };
  }

  // Arrow keys turn the model, + and - zoom, 0 returns to the first view.
  key(event) {
    const offset = this.camera.position.clone().sub(this.controls.target);
    const spherical = new THREE.Spherical().setFromVector3(new THREE.Vector3(offset.x, offset.z, -offset.y));
    const moves = {
      ArrowLeft: () => { spherical.theta -= TURN; },
      ArrowRight: () => { spherical.theta += TURN; },
      ArrowUp: () => { spherical.phi = Math.max(0.05, spherical.phi - TURN); },
      ArrowDown: () => { spherical.phi = Math.min(Math.PI - 0.05, spherical.phi + TURN); },
      "+": () => { spherical.radius *= 0.85; },
      "=": () => { spherical.radius *= 0.85; },
      "-": () => { spherical.radius /= 0.85; },
    };
    if (event.key === "0" && this.home) {
      this.camera.position.copy(this.home.position);
      this.controls.target.copy(this.home.target);
    } else if (moves[event.key]) {
      moves[event.key]();
      const turned = new THREE.Vector3().setFromSpherical(spherical);
      this.camera.position.copy(this.controls.target).add(new THREE.Vector3(turned.x, -turned.z, turned.y));
    } else {
      return;
    }
    event.preventDefault();
    this.controls.autoRotate = false;
  }
}
